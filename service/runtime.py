"""What the service loads once at start-up, as a plain container: database, rulebook store,
the model, the keys."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from risk_models.features import contract, service_problems
from risk_models.scorer import Scorer
from rules.rulebook import load_shipped
from service import audit, intel
from service.assignment import Assignment
from service.config import Settings
from service.database import make_engine, session_factory
from service.keys import KeyRing
from service.rulebooks.store import RulebookStore
from service.security import Principal, load_key_file, parse_env_keys

log = logging.getLogger(__name__)
RUNTIME = "runtime"  # the key of the Runtime in a writing unit of work's info


@dataclass
class Runtime:
    """Long-lived parts shared by every request."""

    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]  # read-only units of work (GET requests, reports, metrics)
    store: RulebookStore
    scorer: Scorer | None
    assignment: Assignment
    keys: Mapping[str, Principal] = field(default_factory=dict)
    model_error: str | None = None

    def close(self) -> None:
        """Free the rulebook engines and the connection pool."""
        self.store.close()
        self.db.dispose()


def load_scorer(settings: Settings) -> tuple[Scorer | None, str | None]:
    """Load the champion model once, or say why not (the service runs without scores).

    The registry is read by a short-lived child process (`risk_models.export`), so a worker
    never imports MLflow, scikit-learn or pandas just to score claims.
    """
    if not settings.load_model:
        return None, "model loading disabled"
    try:
        if settings.serving_model is not None:
            scorer = Scorer.from_json(settings.serving_model.read_text(encoding="utf-8"))
        else:
            from risk_models import export

            scorer = Scorer.from_json(export.document(settings.data_dir, settings.model_ref))
    except Exception as exc:
        log.warning("fraud-risk model not loaded: %s", exc)
        return None, str(exc)
    why = unfit(scorer)
    if why:
        log.warning("fraud-risk model not loaded: %s", why)
        return None, why
    return scorer, None


def unfit(scorer: Scorer) -> str | None:
    """Why a model cannot score the service's claims (None: it can).

    One whose inputs contract the service's claims do not meet would read their inputs as
    missing and score them all alike: it is refused.
    """
    problems = service_problems(contract(scorer.model.features))
    if problems:
        return f"model version {scorer.version} cannot score the service's claims: {'; '.join(problems)}"
    return None


def build(settings: Settings, scorer: Scorer | None = None, db: Engine | None = None) -> Runtime:
    """Create the runtime; store the shipped rulebook versions so decisions can be replayed."""
    db = db or make_engine(settings.resolved_database_url)
    # The audit key reaches each unit of work through its info, never through the database.
    key = settings.audit_secret
    sharing = settings.intel_key.get_secret_value().encode() if settings.intel_key else None
    writing: dict = {audit.KEY: key, intel.KEY: sharing}
    sessions = session_factory(db, info=writing)
    model_error = None
    if scorer is None:
        scorer, model_error = load_scorer(settings)
    settings.calendar.load()  # before the first claim shown, not during it
    fixed = load_key_file(settings.keys_file)
    fixed.update(parse_env_keys(settings.api_keys))
    readers = session_factory(db, readonly=True, info={audit.KEY: key, intel.KEY: sharing})
    keys = KeyRing(fixed, readers, settings.keys_refresh_seconds)
    runtime = Runtime(
        settings=settings,
        db=db,
        sessions=sessions,
        readers=readers,
        store=RulebookStore(load_shipped()),
        scorer=scorer,
        assignment=settings.assignment,
        keys=keys,
        model_error=model_error,
    )
    # Each writing unit of work reaches the runtime (its flush hook keeps the claims' SLA dates).
    writing[RUNTIME] = runtime
    runtime.store.store_shipped(sessions)
    return runtime
