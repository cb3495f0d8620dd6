"""Database schema management: Alembic upgrade and the metadata it migrates."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from service.database import Base
from service.models.aftersales import Complaint, Job, Message, Rectification, Survey
from service.models.claims import Claim, ClaimEvent, DecisionRecord, Document, Review
from service.models.feed import FeedHead, Webhook, WebhookDelivery
from service.models.intel import Indicator
from service.models.investigations import Investigation
from service.models.keys import ApiKey
from service.models.payments import Payment
from service.models.policies import Policy
from service.models.rulebooks import RulebookActivation, RulebookEvent, RulebookVersion, ShadowResult
from service.models.sessions import WorkbenchSession

MIGRATIONS = Path(__file__).parent / "migrations"
target_metadata = Base.metadata
TABLES = (
    Policy,
    Claim,
    ClaimEvent,
    Document,
    Review,
    DecisionRecord,
    Payment,
    Investigation,
    RulebookVersion,
    RulebookActivation,
    RulebookEvent,
    ShadowResult,
    WorkbenchSession,
    Message,
    Job,
    Survey,
    Complaint,
    Rectification,
    Indicator,
    ApiKey,
    FeedHead,
    Webhook,
    WebhookDelivery,
)


def alembic_config(url: str) -> Config:
    """Return an Alembic config for a database URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.set_main_option("file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(rev)s_%%(slug)s")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to a revision (head by default)."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to a revision."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current(engine: Engine) -> tuple[str | None, str]:
    """Return the database's revision (None: not migrated) and the newest one this release has."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision(), head


def revisions() -> list[str]:
    """Every revision this release knows, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return [r.revision for r in reversed(list(script.walk_revisions()))]
