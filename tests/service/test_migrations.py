"""The migrations build exactly the schema the models describe, and 0006 keeps what was in force."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from service.database import make_engine
from service.db import downgrade, target_metadata, upgrade
from tests.service.conftest import BACKENDS, fresh_database


@pytest.mark.parametrize("backend", BACKENDS)
def test_migrations_match_the_models(backend, tmp_path_factory):
    engine = make_engine(fresh_database(backend, tmp_path_factory))
    upgrade(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), target_metadata)
    engine.dispose()
    assert differences == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_active_version_stays_in_force_across_0006(backend, tmp_path_factory):
    engine = make_engine(fresh_database(backend, tmp_path_factory))
    upgrade(engine, "0005")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO rulebook_versions (name, version, sha256, text, source, status, approved_by) "
                "VALUES ('motor', '1', 'a', 't', 's', 'retired', 'li'), "
                "('motor', '2', 'b', 't', 's', 'active', 'li')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT v.version, v.status, a.effective_from FROM rulebook_versions v "
                "LEFT JOIN rulebook_activations a ON a.version_id = v.id ORDER BY v.version"
            )
        ).all()
    assert [(r[0], r[1], str(r[2]) if r[2] else None) for r in rows] == [
        ("1", "approved", None),
        ("2", "approved", "1900-01-01"),
    ]
    downgrade(engine, "0005")
    with engine.connect() as connection:
        statuses = dict(connection.execute(text("SELECT version, status FROM rulebook_versions")).all())
    engine.dispose()
    assert statuses == {"1": "approved", "2": "active"}
