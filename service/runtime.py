"""What the service loads once at start-up: database, rulebook engines, the model, the keys."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine, bindparam, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from risk_models.scorer import Scorer
from rules.engine import RulesEngine
from rules.rulebook import Rulebook, load_shipped, loads
from service import audit
from service.config import Settings
from service.database import make_engine, session_factory
from service.models.rulebooks import RulebookActivation, RulebookVersion
from service.rulebooks import schedule
from service.security import Principal, load_key_file, parse_env_keys

log = logging.getLogger(__name__)
# Where a unit of work keeps the rulebook versions it read (see Runtime._versions).
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


@dataclass
class Runtime:
    """Long-lived parts shared by every request."""

    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]  # read-only units of work (GET requests, reports, metrics)
    rulebooks: dict[str, Rulebook]
    engines: dict[str, RulesEngine]
    scorer: Scorer | None
    keys: dict[str, Principal] = field(default_factory=dict)
    model_error: str | None = None
    _by_sha: dict[str, RulesEngine] = field(default_factory=dict)
    _named: dict[tuple[str, str], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

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
        """Free the rulebook engines and the connection pool."""
        for engine in {*self.engines.values(), *self._by_sha.values()}:  # a set: shipped ones are in both
            engine.close()
        self.db.dispose()


def load_scorer(settings: Settings) -> tuple[Scorer | None, str | None]:
    """Load the champion model once, or say why not (the service runs without scores)."""
    if not settings.load_model:
        return None, "model loading disabled"
    try:
        from risk_models import registry

        registry.configure(settings.data_dir)
        return Scorer.from_registry(settings.model_ref), None
    except Exception as exc:
        log.warning("fraud-risk model not loaded: %s", exc)
        return None, str(exc)


def build(settings: Settings, scorer: Scorer | None = None, db: Engine | None = None) -> Runtime:
    """Create the runtime; store the shipped rulebook versions so decisions can be replayed."""
    db = db or make_engine(settings.resolved_database_url)
    # The audit key reaches each unit of work through its info, never through the database.
    key = settings.audit_key.get_secret_value().encode() if settings.audit_key else None
    sessions = session_factory(db, info={audit.KEY: key})
    rulebooks = load_shipped()
    model_error = None
    if scorer is None:
        scorer, model_error = load_scorer(settings)
    settings.calendar.load()  # before the first claim shown, not during it
    keys = load_key_file(settings.keys_file)
    keys.update(parse_env_keys(settings.api_keys))
    runtime = Runtime(
        settings=settings,
        db=db,
        sessions=sessions,
        readers=session_factory(db, readonly=True, info={audit.KEY: key}),
        rulebooks=rulebooks,
        engines={name: RulesEngine(book) for name, book in rulebooks.items()},
        _by_sha={},  # filled below with the shipped engines, so none is compiled twice
        scorer=scorer,
        keys=keys,
        model_error=model_error,
    )
    runtime._by_sha.update({engine.rulebook.sha256: engine for engine in runtime.engines.values()})
    store_rulebooks(runtime)
    return runtime


STORE_LOCK = 0x52554C45  # the advisory lock that serializes storing the shipped rulebooks


def store_rulebooks(runtime: Runtime) -> None:
    """Keep the exact text of every shipped rulebook version (immutable, keyed by sha256).

    On a new database the shipped versions are put in force. Later, a release that ships a
    changed rulebook stores it as a draft: rules in force change only by approval and activation.
    """
    with runtime.sessions.begin() as session:
        if session.bind.dialect.name == "postgresql":
            # Workers start together: the first stores the versions, the others wait here and then
            # find them (SQLite's BEGIN IMMEDIATE already lets one writer in at a time).
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORE_LOCK})
        known = set(session.scalars(select(RulebookVersion.sha256)))
        scheduled = set(session.scalars(select(RulebookActivation.name).distinct()))
        for book in runtime.rulebooks.values():
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
