"""Which rulebook version decides a claim, and its compiled engine.

The store reads a product line's activation schedule once per unit of work (so a whole request
sees one schedule and a switch is atomic), compiles each stored version once per process (kept
by sha256, so every worker picks up an activation on its next claim without a restart), and
keeps the exact text of every shipped version.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from rules.engine import RulesEngine
from rules.rulebook import Rulebook, loads
from service.models.rulebooks import RulebookActivation, RulebookVersion
from service.rulebooks import schedule

log = logging.getLogger(__name__)
# The advisory lock that serializes storing the shipped rulebooks.
STORE_LOCK = 0x52554C45
# Where a unit of work keeps the rulebook versions it read (see RulebookStore._versions).
VERSIONS_KEY = "rulebook_versions"


# A product line's activations in force (not revoked) and its shadowed version, in one statement.
SCHEDULE = (
    select(
        RulebookVersion.id,
        RulebookVersion.sha256,
        RulebookVersion.shadow,
        RulebookActivation.id,
        RulebookActivation.effective_from,
    )
    .outerjoin(
        RulebookActivation,
        (RulebookActivation.version_id == RulebookVersion.id) & RulebookActivation.revoked_at.is_(None),
    )
    .where(
        RulebookVersion.name == bindparam("product"),
        or_(RulebookActivation.id.is_not(None), RulebookVersion.shadow.is_(True)),
    )
)


@dataclass(frozen=True)
class Versions:
    """A product line's activation schedule, the sha256 of each version in it, and its shadow."""

    entries: tuple[schedule.Entry, ...]
    shas: dict[int, str]
    shadow: tuple[int, str] | None


class RulebookStore:
    """The shipped rulebooks, the engines of stored versions, and which one applies when."""

    def __init__(self, shipped: dict[str, Rulebook]) -> None:
        self.shipped = shipped
        self.engines = {name: RulesEngine(book) for name, book in shipped.items()}
        self._by_sha = {engine.rulebook.sha256: engine for engine in self.engines.values()}
        self._named: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    @staticmethod
    def invalidate(session: Session) -> None:
        """Forget the schedules this unit of work read: it has just changed one."""
        session.info.pop(VERSIONS_KEY, None)

    def _versions(self, session: Session, product: str) -> Versions:
        """Return a product line's activation schedule and shadowed version, read once per unit of work.

        One read per unit of work: the whole request sees one schedule (a switch is atomic), and
        views that need the rulebook again (labels, SLA days) do not go back to the database.
        """
        known = session.info.setdefault(VERSIONS_KEY, {})
        if product not in known:
            rows = session.connection().execute(SCHEDULE, {"product": product}).all()
            entries = tuple(
                schedule.Entry(act, version, effective) for version, _, _, act, effective in rows if act
            )
            shas = {version: sha for version, sha, *_ in rows}
            shadow = next(((version, sha) for version, sha, shadowed, *_ in rows if shadowed), None)
            known[product] = Versions(entries, shas, shadow)
        return known[product]

    def engine_for(self, session: Session, product: str, on: dt.date | None = None) -> RulesEngine:
        """Return the engine of the version in force for claims reported on a day (default today).

        Engines are kept by sha256, so every worker picks up an activation on its next claim
        without a restart, and a request in flight keeps the engine it started with.
        """
        versions = self._versions(session, product)
        entry = schedule.in_force(versions.entries, on or dt.date.today())
        if entry is None:
            return self.engines[product]  # nothing stored yet: the shipped rulebook
        return self.engine_by_sha(session, versions.shas[entry.version_id])

    def shadow_for(self, session: Session, product: str) -> tuple[int, RulesEngine] | None:
        """Return the version shadowing the active one (its id and engine), if any."""
        shadow = self._versions(session, product).shadow
        return None if shadow is None else (shadow[0], self.engine_by_sha(session, shadow[1]))

    def engine_named(self, session: Session, product: str, version: str) -> RulesEngine | None:
        """Return the engine of one stored version by its name, or None if there is no such version."""
        key = (product, version)
        sha = self._named.get(key)  # versions are immutable: the mapping never changes
        if sha is None:
            sha = session.scalar(
                select(RulebookVersion.sha256).where(
                    RulebookVersion.name == product, RulebookVersion.version == version
                )
            )
            if sha is None:
                return None
            self._named[key] = sha
        return self.engine_by_sha(session, sha)

    def engine_by_sha(self, session: Session, sha: str) -> RulesEngine:
        """Return the engine of one stored version, compiled once per process."""
        engine = self._by_sha.get(sha)
        if engine is None:
            with self._lock:
                engine = self._by_sha.get(sha)
                if engine is None:
                    stored = session.scalars(
                        select(RulebookVersion).where(RulebookVersion.sha256 == sha)
                    ).one()
                    engine = RulesEngine(loads(stored.text, source=stored.source))
                    self._by_sha[sha] = engine
        return engine

    def rulebook_for(self, session: Session, product: str, on: dt.date | None = None) -> Rulebook:
        """Return the rulebook in force for a product line on a day (default today)."""
        return self.engine_for(session, product, on).rulebook

    def close(self) -> None:
        """Free every compiled engine."""
        for engine in self._by_sha.values():
            engine.close()

    def store_shipped(self, sessions: sessionmaker[Session]) -> None:
        """Keep the exact text of every shipped rulebook version (immutable, keyed by sha256).

        On a new database the shipped versions are put in force. Later, a release that ships a
        changed rulebook stores it as a draft: rules in force change only by approval and activation.
        """
        with sessions.begin() as session:
            if session.bind.dialect.name == "postgresql":
                # Workers start together: the first stores the versions, the others wait here and then
                # find them (SQLite's BEGIN IMMEDIATE already lets one writer in at a time).
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORE_LOCK})
            known = set(session.scalars(select(RulebookVersion.sha256)))
            scheduled = set(session.scalars(select(RulebookActivation.name).distinct()))
            for book in self.shipped.values():
                if book.sha256 in known:
                    continue
                first = book.name not in scheduled
                version = RulebookVersion(
                    name=book.name,
                    version=book.version,
                    sha256=book.sha256,
                    text=book.text,
                    source=book.source,
                    status="approved" if first else "draft",
                )
                session.add(version)
                if first:
                    session.flush()
                    session.add(
                        RulebookActivation(
                            name=book.name,
                            version_id=version.id,
                            effective_from=schedule.SINCE_EVER,
                            activated_by="shipped",
                        )
                    )
                else:
                    log.warning(
                        "shipped %s rulebook %s stored as a draft: approve and activate it to use it",
                        book.name,
                        book.version,
                    )
