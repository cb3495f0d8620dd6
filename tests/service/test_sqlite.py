"""The embedded SQLite database: writers pass the gate one at a time, readers never wait for it."""

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from service.database import make_engine, session_factory
from service.models.policies import Policy
from service.sqlite import WriterGate, make_sqlite_engine
from tests.service.conftest import headers


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'claims.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    yield engine
    engine.dispose()


def gate_is_free(database) -> bool:
    """Whether a writer of another process could pass the gate now (the file lock is per process)."""
    probe = (
        "import fcntl, os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
        "try:\n    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "except OSError:\n    sys.exit(1)\n"
    )
    return subprocess.run([sys.executable, "-c", probe, f"{database}-writer"], check=False).returncode == 0


@pytest.mark.parametrize("end", ["commit", "rollback", "close"])
def test_a_writer_holds_the_gate_until_its_transaction_ends(engine, end):
    database = engine.url.database
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
    assert not gate_is_free(database)
    if end == "close":
        connection.invalidate()  # the pool throws the connection away in mid-transaction
    else:
        getattr(transaction, end)()
    assert gate_is_free(database)
    connection.close()


def test_read_only_work_never_takes_the_gate(engine):
    readers = session_factory(engine, readonly=True)
    with engine.connect() as writer, writer.begin():
        writer.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        # A writer is in the middle of its transaction: a reader still reads the last commit.
        with readers() as session:
            assert session.execute(text("SELECT count(*) FROM notes")).scalar_one() == 0


def test_a_read_only_unit_of_work_refuses_to_write(engine):
    readers = session_factory(engine, readonly=True)
    with readers() as session:
        session.add(Policy(policy_number="P-1"))
        with pytest.raises(RuntimeError, match="read-only unit of work tried to write"):
            session.flush()


def test_a_writer_waits_for_the_one_ahead_and_then_gets_in(engine):
    holder = engine.connect()
    holder.begin()
    holder.execute(text("INSERT INTO notes (body) VALUES ('first')"))
    finished = threading.Event()

    def second() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO notes (body) VALUES ('second')"))
        finished.set()

    waiting = threading.Thread(target=second)
    waiting.start()
    assert not finished.wait(0.3)  # held back while the first transaction is open
    holder.commit()
    assert finished.wait(10)
    waiting.join()
    holder.close()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT body FROM notes ORDER BY id")).scalars().all() == [
            "first",
            "second",
        ]


def test_a_second_engine_writing_on_the_same_thread_gets_an_error_not_a_hang(engine):
    # Two engines on one file in one process: the file lock is the process's, so the second
    # write reaches SQLite's own lock and its busy timeout.
    other = make_sqlite_engine(str(engine.url), wait_seconds=0.2)
    with engine.begin() as first:
        first.execute(text("INSERT INTO notes (body) VALUES ('first')"))
        with pytest.raises(OperationalError, match="database is locked"), other.begin():
            pass
    other.dispose()
    with other.begin() as connection:
        connection.execute(text("INSERT INTO notes (body) VALUES ('second')"))
    other.dispose()


def test_a_second_writer_on_the_same_thread_gets_a_clear_error_not_a_hang(tmp_path):
    gate = WriterGate(str(tmp_path / "claims.db"), timeout=0.2)
    gate.acquire()
    with pytest.raises(sqlite3.OperationalError, match=r"another writer of this process held it for 0 s"):
        gate.acquire()
    gate.release()
    gate.acquire()  # free again once released
    gate.release()


def _hold_then_die(url: str, holding, stop) -> None:
    engine = make_engine(url)
    connection = engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO notes (body) VALUES ('lost')"))
    holding.set()
    stop.wait(30)
    os._exit(1)  # dies in mid-transaction, without a rollback


def test_a_process_that_dies_holding_the_gate_lets_the_next_writer_in(engine):
    context = multiprocessing.get_context("spawn")
    holding, stop = context.Event(), context.Event()
    child = context.Process(target=_hold_then_die, args=(str(engine.url), holding, stop))
    child.start()
    try:
        assert holding.wait(60)
        assert not gate_is_free(engine.url.database)
        stop.set()
        child.join(30)
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO notes (body) VALUES ('kept')"))
            assert connection.execute(text("SELECT body FROM notes")).scalars().all() == ["kept"]
    finally:
        stop.set()
        child.join(30)


def test_a_failed_begin_lets_go_of_the_gate(engine):
    database = engine.url.database
    # Another program writing the file without the gate: SQLite's own lock refuses BEGIN IMMEDIATE.
    other = sqlite3.connect(database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    impatient = make_sqlite_engine(str(engine.url), wait_seconds=0.1)
    try:
        with pytest.raises(OperationalError, match="database is locked"), impatient.begin():
            pass
        assert gate_is_free(database)
    finally:
        other.rollback()
        other.close()
        impatient.dispose()


def test_requests_that_read_are_not_held_up_by_a_writer(backend_app):
    # On SQLite a GET reads its snapshot beside the writer (WAL); PostgreSQL never blocks reads.
    client, _ = backend_app
    runtime = client.app.state.runtime
    with runtime.db.connect() as writer, writer.begin() as transaction:
        writer.execute(text("UPDATE claims SET description = description WHERE id < 0"))  # a writer at work
        response = client.get("/v1/claims?limit=1", headers=headers("analyst"))
        assert response.status_code == 200, response.text
        transaction.rollback()
