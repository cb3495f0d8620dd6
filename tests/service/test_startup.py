"""Workers starting together on a new database: the shipped rulebooks are stored once, none fails."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from service import runtime as runtime_module
from service.database import make_engine, session_factory
from service.db import upgrade
from service.models.rulebooks import RulebookActivation, RulebookVersion
from service.rulebooks.store import RulebookStore
from tests.service.conftest import BACKENDS, fresh_database, make_settings

WORKERS = 6


def _migrated(backend: str, tmp_path_factory: pytest.TempPathFactory):
    engine = make_engine(fresh_database(backend, tmp_path_factory))
    upgrade(engine)
    return engine


@pytest.mark.parametrize("backend", BACKENDS)
def test_workers_starting_together_store_the_shipped_rulebooks_once(backend, scorer, tmp_path_factory):
    # One runtime built elsewhere gives the compiled rulebooks; the workers share only the new database.
    elsewhere = _migrated("sqlite", tmp_path_factory)
    built = runtime_module.build(
        make_settings(str(elsewhere.url), tmp_path_factory.mktemp("d")), scorer=scorer
    )
    engine = _migrated(backend, tmp_path_factory)
    gate = threading.Barrier(WORKERS)

    def start(_: int) -> None:
        store = RulebookStore(built.store.shipped)
        gate.wait()  # all at once, as uvicorn's workers start
        store.store_shipped(session_factory(engine))

    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            list(pool.map(start, range(WORKERS)))  # re-raises a worker's failure
        with session_factory(engine)() as session:
            versions = session.execute(
                select(RulebookVersion.name, func.count()).group_by(RulebookVersion.name)
            ).all()
            activations = session.execute(
                select(RulebookActivation.name, func.count()).group_by(RulebookActivation.name)
            ).all()
        assert dict(versions) == {name: 1 for name in built.store.shipped}
        assert dict(activations) == {name: 1 for name in built.store.shipped}
    finally:
        built.close()
        elsewhere.dispose()
        engine.dispose()


@pytest.mark.model
def test_the_service_refuses_a_model_that_cannot_read_its_claims(tmp_path):
    """A table-mode champion would score every claim alike: it is not loaded, and readiness says why."""
    from risk_models.features import ClaimFeatures
    from service.config import Settings
    from tests.risk_models.test_contract import table_result

    document = tmp_path / "serving-model.json"
    document.write_text(table_result().model.serving("7").to_json(), encoding="utf-8")
    settings = Settings(data_dir=tmp_path, serving_model=document, load_model=True)
    scorer, why = runtime_module.load_scorer(settings)
    assert scorer is None
    assert "model version 7 cannot score the service's claims" in why and "'table'-mode" in why
    assert ClaimFeatures.inputs  # the service's own schema is what a champion must read
