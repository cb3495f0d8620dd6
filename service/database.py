"""SQLAlchemy engine, sessions and the declarative base with a naming convention."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, func, insert, inspect, select
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from service.sqlite import make_sqlite_engine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)


def utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A stored moment in UTC: SQLite gives timestamps back without their zone, a PostgreSQL
    session in another zone gives them in its own."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def utc_text(moment: dt.datetime | None) -> str | None:
    """A stored moment as an ISO timestamp in UTC (None stays None)."""
    found = utc(moment)
    return found.isoformat() if found else None


def make_engine(url: str) -> Engine:
    """Create an engine: SQLite as `service.sqlite` sets it up, PostgreSQL with a checked pool."""
    if url.startswith("sqlite"):
        return make_sqlite_engine(url)
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def session_factory(
    bind: Engine | Connection, *, readonly: bool = False, **options: Any
) -> sessionmaker[Session]:
    """Return the session factory of units of work; `readonly` ones may read, never write.

    A read-only unit of work needs no write lock: on SQLite it begins deferred and reads its
    snapshot beside the writers (WAL) instead of queueing behind them.
    """
    if readonly and isinstance(bind, Engine):
        bind = bind.execution_options(readonly=True)
    factory = sessionmaker(
        bind=bind, class_=ReadOnlySession if readonly else Session, expire_on_commit=False, **options
    )
    if readonly:
        event.listen(factory, "before_flush", _refuse_writes)
    return factory


class ReadOnlySession(Session):
    """A read-only unit of work: one that ends without an error ends with COMMIT, not ROLLBACK.

    Nothing is undone either way, but on PostgreSQL psycopg forgets every prepared statement
    of the connection at each ROLLBACK: reads ended so would have each statement parsed and
    planned again by the server, every time.
    """

    def finish(self) -> None:
        """End the transaction in progress, if any, keeping the connection's prepared statements."""
        transaction = self.get_transaction()
        if transaction is None:
            return
        if not transaction.is_active or self.new or self.dirty or self.deleted:
            self.rollback()  # a failed flush, or writes refused: nothing of them is kept
        else:
            self.commit()

    def __exit__(self, type_: Any, value: Any, traceback: Any) -> None:
        try:
            if type_ is None:
                self.finish()
        finally:
            super().__exit__(type_, value, traceback)


def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only unit of work tried to write; use a writing session")


def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield a session that commits once at the end, or rolls everything back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_inserts: dict[Any, Any] = {}
_next_ids: dict[tuple[str, ...], Any] = {}
# session.info: the rows written outside the unit of work, by table (their ids), for commit-time hooks.
INSERTED = "rows_inserted_outside_unit_of_work"


def insert_built(session: Session, objects: Sequence[Base]) -> None:
    """INSERT objects built in memory, one statement per run of one class, in order; no unit of work.

    For a request that creates a whole graph (a new claim, its events and first records) and
    reads none of it back: the unit of work's bookkeeping costs more than the inserts. The
    objects must carry their foreign keys, and those of one class the same attributes (the
    columns left out take their defaults). Each gets its generated id (unless it has one);
    afterwards the session no longer tracks them, and they stay readable in memory.
    """
    connection = session.connection()  # table INSERTs: the ORM's execution layer has nothing to add
    for obj in objects:
        if obj in session:
            session.expunge(obj)
    written: dict[str, list[int]] = session.info.setdefault(INSERTED, {})
    runs = [(mapper, list(run)) for mapper, run in groupby(objects, key=lambda obj: inspect(obj).mapper)]
    numbered = connection.dialect.name == "sqlite"
    if numbered:
        _number_on_sqlite(connection, runs)
    for mapper, built in runs:
        columns = [c.key for c in mapper.column_attrs]
        rows = [{key: obj.__dict__[key] for key in columns if key in obj.__dict__} for obj in built]
        if any(row.keys() != rows[0].keys() for row in rows):
            raise ValueError(f"{mapper.class_.__name__} objects set different attributes: {rows}")
        if numbered:
            # Ids given: one executemany, no RETURNING (SQLite cannot promise its rows' order,
            # so SQLAlchemy would send one INSERT per row).
            connection.execute(_statement(mapper, returning=False), rows)
        else:
            # RETURNING makes the rows one multi-row INSERT (one round trip).
            returned = connection.execute(_statement(mapper, returning=True), rows)
            for obj, (new_id,) in zip(built, returned, strict=True):
                setattr(obj, mapper.primary_key[0].key, new_id)
        key = mapper.primary_key[0].key
        written.setdefault(mapper.local_table.name, []).extend(getattr(obj, key) for obj in built)


def _statement(mapper: Any, returning: bool) -> Any:
    # Built once per table: a statement keeps its cache key, so it is not worked out again.
    statement = _inserts.get((mapper, returning))
    if statement is None:
        statement = insert(mapper.local_table)
        if returning:
            statement = statement.returning(mapper.primary_key[0], sort_by_parameter_order=True)
        _inserts[mapper, returning] = statement
    return statement


def last_ids(connection: Connection, tables: Sequence[Any]) -> dict[str, int]:
    """The largest id of each table (0 for none), in one statement.

    On SQLite, inside a writing transaction, the next ids are these plus one: it holds the
    database's write lock from its BEGIN IMMEDIATE (service/sqlite.py), so nobody else inserts
    until it commits, and the tables' integer keys are rowids, which SQLite also gives as max + 1.
    """
    key = tuple(t.name for t in tables)
    query = _next_ids.get(key)
    if query is None:
        query = _next_ids[key] = select(
            *(select(func.coalesce(func.max(t.primary_key.columns[0]), 0)).scalar_subquery() for t in tables)
        )
    return dict(zip(key, connection.execute(query).one(), strict=True))


def _number_on_sqlite(connection: Connection, runs: list[tuple[Any, list[Base]]]) -> None:
    """Give the objects without an id the next ones of their tables (see `last_ids`)."""
    wanted = [
        (mapper, built)
        for mapper, built in runs
        if any(obj.__dict__.get(mapper.primary_key[0].key) is None for obj in built)
    ]
    if not wanted:
        return
    if not connection.in_transaction() or connection.get_execution_options().get("readonly", False):
        raise RuntimeError("insert_built on SQLite needs a writing transaction")
    last = last_ids(connection, list(dict.fromkeys(m.local_table for m, _ in wanted)))
    for mapper, built in wanted:
        pk = mapper.primary_key[0].key
        for obj in built:
            if obj.__dict__.get(pk) is None:
                last[mapper.local_table.name] += 1
                setattr(obj, pk, last[mapper.local_table.name])
