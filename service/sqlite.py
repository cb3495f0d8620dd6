"""The embedded SQLite database: pragmas, write transactions, and writers woken in turn.

SQLite lets one writer in at a time. Its own busy handler makes the others poll, sleeping up
to 100 ms between tries, and whoever happens to try just after a commit gets in, not whoever
has waited longest: under load a few requests wait a second or more. The writer gate below
puts waiting writers to sleep on a lock instead, one per process and one file lock across
processes, and wakes the next one the moment a writer commits or rolls back. SQLite's own
lock still guards the data: the gate only orders the writers.

The file lock is a POSIX record lock, held by a process rather than by one open file: a
thread that already writes through one engine and opens a second write on the same database
through another gets SQLite's "database is locked" after the busy timeout, never a hang.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

# How long a writer waits for the other writers of its own process, as SQLite's busy timeout did.
WAIT_SECONDS = 30


class WriterGate:
    """One writing transaction at a time on one database file, across threads and processes."""

    def __init__(self, database: str, timeout: float = WAIT_SECONDS) -> None:
        self.path = f"{database}-writer"
        self.timeout = timeout
        self._threads = threading.Lock()
        self._fd: int | None = None

    def _file(self) -> int:
        # Opened once and never closed: closing any descriptor of the file would drop the lock.
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def acquire(self) -> None:
        """Wait for this process's other writers (up to the timeout), then for other processes'."""
        if not self._threads.acquire(timeout=self.timeout):
            raise sqlite3.OperationalError(
                f"database is locked: another writer of this process held it for {self.timeout:.0f} s"
            )
        try:
            # The holder is a transaction in another process: it ends, or its process does and
            # the kernel lets go of its lock.
            fcntl.lockf(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        """Let the next writer in."""
        fcntl.lockf(self._file(), fcntl.LOCK_UN)
        self._threads.release()


class GatedConnection(sqlite3.Connection):
    """A connection that holds the writer gate from its BEGIN IMMEDIATE until it commits or rolls back."""

    gate: WriterGate | None = None
    holding = False

    def hold_gate(self) -> None:
        """Wait for the writers ahead, then hold the gate (the caller begins its transaction)."""
        if self.gate is not None:
            self.gate.acquire()
            self.holding = True

    def let_go(self) -> None:
        """Let the next writer in, if this connection holds the gate."""
        if self.holding:
            self.holding = False
            self.gate.release()

    def commit(self) -> None:
        """Commit, then wake the next writer."""
        try:
            super().commit()
        finally:
            self.let_go()

    def rollback(self) -> None:
        """Roll back, then wake the next writer."""
        try:
            super().rollback()
        finally:
            self.let_go()

    def close(self) -> None:
        """Close, never keeping the gate."""
        try:
            super().close()
        finally:
            self.let_go()


def make_sqlite_engine(url: str, wait_seconds: float = WAIT_SECONDS) -> Engine:
    """Create a SQLite engine: WAL, foreign keys, write transactions that take the lock up front."""
    database = make_url(url).database
    gate = (
        WriterGate(os.path.abspath(database), wait_seconds) if database and database != ":memory:" else None
    )
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": wait_seconds, "factory": GatedConnection}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: GatedConnection, _record) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN: savepoints then work as documented.
        dbapi_connection.isolation_level = None
        dbapi_connection.gate = gate
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={round(wait_seconds * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        # Take the write lock up front: two deferred writers would fail rather than wait.
        # Read-only work (health checks, reports) begins deferred and never waits for writers.
        if connection.get_execution_options().get("readonly", False):
            connection.exec_driver_sql("BEGIN")
            return
        dbapi_connection = connection.connection.dbapi_connection
        try:
            dbapi_connection.hold_gate()
        except sqlite3.OperationalError as exc:  # reported like SQLite's own "database is locked"
            raise OperationalError("BEGIN IMMEDIATE", None, exc) from exc
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_connection.let_go()
            raise

    return engine
