"""The embedded SQLite database: pragmas, write transactions, and writers woken in turn.

SQLite lets one writer in at a time. Its own busy handler makes the others poll, sleeping up
to 100 ms between tries, and whoever happens to try just after a commit gets in, not whoever
has waited longest: under load a few requests wait a second or more. The writer gate below
puts waiting writers to sleep on a lock instead, one per process and one file lock across
processes, and wakes the next one the moment a writer commits or rolls back. SQLite's own
lock still guards the data: the gate only orders the writers.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

# How long a writer waits for the other writers of its own process, as SQLite's busy timeout did.
WAIT_SECONDS = 30


class WriterGate:
    """One writing transaction at a time on one database file, across threads and processes."""

    def __init__(self, database: str, timeout: float = WAIT_SECONDS) -> None:
        self.path = f"{database}-writer"
        self.timeout = timeout
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        # A process made by fork shares its parent's open file, and with it the parent's lock.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
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
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        """Let the next writer in."""
        fcntl.flock(self._file(), fcntl.LOCK_UN)
        self._threads.release()


class GatedConnection(sqlite3.Connection):
    """A connection that holds the writer gate from BEGIN IMMEDIATE until it commits or rolls back."""

    gate: WriterGate | None = None
    holding = False

    def begin_write(self) -> None:
        """Take the gate, then SQLite's write lock."""
        if self.gate is not None:
            self.gate.acquire()
            self.holding = True
        try:
            self.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._let_go()
            raise

    def _let_go(self) -> None:
        if self.holding:
            self.holding = False
            self.gate.release()

    def commit(self) -> None:
        """Commit, then wake the next writer."""
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        """Roll back, then wake the next writer."""
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        """Close, never keeping the gate."""
        try:
            super().close()
        finally:
            self._let_go()


def make_sqlite_engine(url: str) -> Engine:
    """Create a SQLite engine: WAL, foreign keys, write transactions that take the lock up front."""
    database = make_url(url).database
    gate = WriterGate(os.path.abspath(database)) if database and database != ":memory:" else None
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": WAIT_SECONDS, "factory": GatedConnection}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: GatedConnection, _record) -> None:
        # Let SQLAlchemy, not the driver, issue BEGIN: savepoints then work as documented.
        dbapi_connection.isolation_level = None
        dbapi_connection.gate = gate
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={WAIT_SECONDS * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:
        # Take the write lock up front: two deferred writers would fail rather than wait.
        # Read-only work (health checks, reports) begins deferred and never waits for writers.
        if connection.get_execution_options().get("readonly", False):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.connection.dbapi_connection.begin_write()

    return engine
