"""What the service loads once at start-up: database, rulebook engines, the model, the keys."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session, sessionmaker

from risk_models.scorer import Scorer
from rules.engine import RulesEngine
from rules.rulebook import Rulebook, load_shipped, loads
from service.config import Settings
from service.database import make_engine, session_factory
from service.rulebooks.models import RulebookVersion
from service.security import Principal, load_key_file, parse_env_keys

log = logging.getLogger(__name__)
# Where a unit of work keeps the rulebook versions it read (see Runtime._versions).
VERSIONS_KEY = "rulebook_versions"


@dataclass
class Runtime:
    """Long-lived parts shared by every request."""

    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    rulebooks: dict[str, Rulebook]
    engines: dict[str, RulesEngine]
    scorer: Scorer | None
    keys: dict[str, Principal] = field(default_factory=dict)
    model_error: str | None = None
    _by_sha: dict[str, RulesEngine] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _versions(self, session: Session, product: str) -> tuple[str | None, tuple[int, str] | None]:
        """Return the active sha256 and the shadowed version (id, sha256) of a product line.

        One read per unit of work: the whole request sees one version (a switch is atomic), and
        views that need the rulebook again (labels, SLA days) do not go back to the database.
        """
        known = session.info.setdefault(VERSIONS_KEY, {})
        if product not in known:
            rows = session.execute(
                select(RulebookVersion.id, RulebookVersion.sha256, RulebookVersion.status).where(
                    RulebookVersion.name == product,
                    or_(RulebookVersion.status == "active", RulebookVersion.shadow.is_(True)),
                )
            ).all()
            active = next((sha for _, sha, status in rows if status == "active"), None)
            shadow = next(((id_, sha) for id_, sha, status in rows if status != "active"), None)
            known[product] = (active, shadow)
        return known[product]

    def engine_for(self, session: Session, product: str) -> RulesEngine:
        """Return the engine of the version in force now.

        Engines are kept by sha256, so every worker picks up an activation on its next claim
        without a restart, and a request in flight keeps the engine it started with.
        """
        sha, _ = self._versions(session, product)
        return self.engines[product] if sha is None else self.engine_by_sha(session, sha)

    def shadow_for(self, session: Session, product: str) -> tuple[int, RulesEngine] | None:
        """Return the version shadowing the active one (its id and engine), if any."""
        _, shadow = self._versions(session, product)
        return None if shadow is None else (shadow[0], self.engine_by_sha(session, shadow[1]))

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

    def rulebook_for(self, session: Session | None, product: str) -> Rulebook:
        """Return the rulebook in force for a product line."""
        return self.engine_for(session, product).rulebook if session is not None else self.rulebooks[product]

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
    sessions = session_factory(db)
    rulebooks = load_shipped()
    model_error = None
    if scorer is None:
        scorer, model_error = load_scorer(settings)
    keys = load_key_file(settings.keys_file)
    keys.update(parse_env_keys(settings.api_keys))
    runtime = Runtime(
        settings=settings,
        db=db,
        sessions=sessions,
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


def store_rulebooks(runtime: Runtime) -> None:
    """Keep the exact text of every rulebook version in use (immutable, keyed by sha256)."""
    with runtime.sessions.begin() as session:
        known = set(session.scalars(select(RulebookVersion.sha256)))
        for book in runtime.rulebooks.values():
            if book.sha256 not in known:
                session.add(
                    RulebookVersion(
                        name=book.name,
                        version=book.version,
                        sha256=book.sha256,
                        text=book.text,
                        source=book.source,
                    )
                )
