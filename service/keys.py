"""API keys in the database (`claims keys create|list|revoke`) beside the environment's and the
key file's, as one ring every check reads.

The ring holds hashes only. Keys from the database are read again at most every
`CLAIMS_KEYS_REFRESH_SECONDS`, so a key created or revoked on one host takes effect on every
host within that time, without a restart.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from service.models.keys import ApiKey
from service.security import ROLES, Principal, hash_key


def create(session: Session, name: str, role: str) -> tuple[str, ApiKey]:
    """Make a key for a person or system of a role; return it (shown once) and its row."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r} (roles: {', '.join(ROLES)})")
    if not name.strip() or len(name) > 80:
        raise ValueError("the name is 1-80 characters")
    key = secrets.token_urlsafe(32)
    row = ApiKey(
        key_hash=hash_key(key), hint=key[:6], name=name.strip(), role=role, created_at=dt.datetime.now(dt.UTC)
    )
    session.add(row)
    session.flush()
    return key, row


def listing(session: Session) -> list[ApiKey]:
    """Every key made, the newest last (revoked ones too, with when)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke(session: Session, who: str) -> list[ApiKey]:
    """Revoke a key by its id, or every live key of a name; return what was revoked."""
    condition = or_(ApiKey.name == who, ApiKey.id == int(who)) if who.isdigit() else ApiKey.name == who
    rows = list(
        session.scalars(select(ApiKey).where(condition, ApiKey.revoked_at.is_(None)).with_for_update())
    )
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        row.revoked_at = now
    return rows


class KeyRing(Mapping[str, Principal]):
    """The keys that open the API: hash -> who, from the environment and key file (fixed at
    start-up) and from the database (read again every `refresh` seconds)."""

    def __init__(
        self, fixed: Mapping[str, Principal], readers: sessionmaker[Session] | None, refresh: float
    ) -> None:
        self.fixed = dict(fixed)
        self.readers = readers
        self.refresh = refresh
        self._ring: dict[str, Principal] = dict(self.fixed)  # the merged ring, built at each refresh
        self._at = -float("inf")
        self._lock = threading.Lock()

    def _current(self) -> dict[str, Principal]:
        if self.readers is None:
            return self.fixed
        with self._lock:
            if time.monotonic() - self._at >= self.refresh:
                try:
                    with self.readers() as session:
                        rows = session.execute(
                            select(ApiKey.key_hash, ApiKey.name, ApiKey.role).where(
                                ApiKey.revoked_at.is_(None)
                            )
                        ).all()
                    stored = {digest: Principal(name, role) for digest, name, role in rows}
                except (OperationalError, ProgrammingError):
                    # A database older than the table: the fixed keys only, until it is migrated.
                    stored = {}
                # The environment's keys win a clash: an operator's own key cannot be shadowed.
                self._ring = {**stored, **self.fixed}
                self._at = time.monotonic()
            return self._ring

    def __getitem__(self, digest: str) -> Principal:
        return self._current()[digest]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())

    def items(self) -> Any:
        """The (hash, who) pairs, read once for the whole walk."""
        return self._current().items()

    def values(self) -> Any:
        """Who holds a key."""
        return self._current().values()
