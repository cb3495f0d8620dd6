"""What the service loads once at start-up: database, rulebook engines, the model, the keys."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from risk_models.scorer import Scorer
from rules.engine import RulesEngine
from rules.rulebook import Rulebook, load_shipped
from service.config import Settings
from service.database import make_engine, session_factory
from service.rulebooks.models import RulebookVersion
from service.security import Principal, load_key_file, parse_env_keys

log = logging.getLogger(__name__)


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

    def close(self) -> None:
        """Free the rulebook engines and the connection pool."""
        for engine in self.engines.values():
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
        scorer=scorer,
        keys=keys,
        model_error=model_error,
    )
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
