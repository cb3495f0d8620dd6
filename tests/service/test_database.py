"""Units of work on the real databases: how they end matters to the server."""

from sqlalchemy import select, text

from service.database import make_engine, session_factory
from service.models.policies import Policy
from tests.service.conftest import migrated_database

PREPARED = text("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%policies.policy_number%'")


def test_read_only_units_keep_the_connections_prepared_statements(tmp_path_factory):
    """A ROLLBACK makes psycopg forget every prepared statement: reads end with COMMIT instead,
    so a statement run often is parsed and planned once per connection, not at every request."""
    url = migrated_database("postgres", tmp_path_factory)
    engine = make_engine(url)  # one unit after another: the pool hands out its one connection
    readers = session_factory(engine, readonly=True)
    query = select(Policy.id).where(Policy.policy_number == "none")
    for _ in range(8):  # psycopg prepares a statement at its sixth run
        with readers() as reader:
            assert reader.execute(query).all() == []
    with readers() as reader:
        assert reader.scalar(PREPARED) == 1
    engine.dispose()
