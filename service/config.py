"""Settings from the environment (prefix CLAIMS_), injected with Depends so tests override them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from service import aftersales, assignment
from service.sla import Calendar


class Settings(BaseSettings):
    """Everything the service can be told from outside."""

    model_config = SettingsConfigDict(env_prefix="CLAIMS_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    # API keys: a JSON file {"<sha256 of key>": {"name": "...", "role": "..."}} and/or
    # CLAIMS_API_KEYS as "role:name:key,role:name:key" (keys are hashed on load).
    api_keys_file: Path | None = None
    api_keys: str = ""
    model_ref: str = "champion"
    load_model: bool = True
    # The champion's serving document, exported once by `claims serve` for all its workers;
    # unset, each process reads the registry itself.
    serving_model: Path | None = None
    # Who works a claim (see service/assignment.yaml); checked whole when the settings load.
    assignment_file: Path | None = None
    # The after-sales policy (service/aftersales.yaml): commitments and the customer's messages.
    aftersales_file: Path | None = None
    # Where messages go: an SMTP server for email (unset: the worker logs each message instead),
    # and a webhook for SMS / app push, signed with HMAC-SHA256 under the secret.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = "claims@example.com"
    notify_webhook_url: str | None = None
    notify_webhook_secret: SecretStr | None = None
    # Run the outbox worker inside each service process (`make run` does); otherwise run
    # `claims worker` beside the service. Either way a job runs once and a message goes once.
    # How often `claims serve` asks the registry for the champion, and a worker looks at the
    # serving document it is handed (0: never; the model changes only with a restart).
    model_refresh_seconds: float = Field(default=60.0, ge=0, le=86_400)
    # How often each worker reads the keys `claims keys create|revoke` keep in the database.
    keys_refresh_seconds: float = Field(default=10.0, ge=0, le=3600)
    # A feature's PSI above this counts as drifted on /metrics (0.1-0.2 is worth watching).
    model_drift_threshold: float = Field(default=0.2, gt=0, le=10)
    worker_in_process: bool = False
    # The address customers reach (survey links), and the zone of the service hours.
    public_url: str = "http://127.0.0.1:8000"
    service_timezone: str = "Asia/Shanghai"
    # Authority: the most a person of a role may approve; above the dual-approval amount two
    # different senior reviewers (the senior review and the decision) are needed.
    specialist_authority_limit: Decimal = Decimal("50000.00")
    senior_authority_limit: Decimal = Decimal("500000.00")
    dual_approval_above: Decimal = Decimal("500000.00")
    # Per-person limits over their role's, as "name=amount,name=amount".
    authority_limits: Annotated[dict[str, Decimal], NoDecode] = Field(default_factory=dict)
    # Why an approval may exceed the payable amount (a senior reviewer confirms it).
    override_reason_codes: Annotated[frozenset[str], NoDecode] = frozenset(
        {"EX_GRATIA", "INDEPENDENT_ASSESSMENT", "LITIGATION_SETTLEMENT", "RULES_UNDERSTATED"}
    )
    # Denial codes a person may give beyond the codes the rulebook declares.
    manual_denial_codes: Annotated[frozenset[str], NoDecode] = frozenset(
        {
            "DOCUMENTS_NOT_PROVIDED",
            "DUPLICATE_CLAIM",
            "FRAUD_CONFIRMED",
            "MISREPRESENTATION",
            "NOT_AN_INSURED_LOSS",
        }
    )
    # /metrics: a valid API key of any role, or this token as `Authorization: Bearer …` (for a
    # Prometheus scrape config); CLAIMS_METRICS_PUBLIC=true opens it (a bind only the scraper reaches).
    metrics_token: str | None = Field(default=None, min_length=16)
    # Seals every claim's chain head (HMAC-SHA256); keep it outside the database, e.g. in a vault.
    audit_key: SecretStr | None = None
    # Signs the workbench's session cookies; unset, a random key is kept in the data directory.
    session_key: SecretStr | None = None
    # The key the insurers sharing fraud indicators agreed on (HMAC-SHA256 of each indicator);
    # unset, nothing is exported and no claim is matched against imported indicators.
    intel_key: SecretStr | None = Field(default=None, min_length=16)
    intel_issuer: str = Field(default="claims-adjudication", min_length=1, max_length=80)
    metrics_public: bool = False
    max_body_bytes: int = 2_000_000
    # Requests a worker process works on at once; the rest wait their turn. Endpoints hold the
    # GIL most of the time: a few at once overlap database round trips, dozens only contend.
    concurrent_requests: int = Field(default=4, ge=1, le=256)
    environment: str = "development"
    sla_country: str = "CN"
    # Extra closure days, read from the environment as comma-separated YYYY-MM-DD.
    sla_closures: Annotated[frozenset[dt.date], NoDecode] = frozenset()
    # How old the SLA gauges on /metrics may be: computing them reads every open claim.
    sla_metrics_seconds: float = Field(default=30.0, ge=0)

    @field_validator("audit_key", "session_key")
    @classmethod
    def _long_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (a key someone could guess seals nothing)")
        return value

    @field_validator("sla_country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        # Refused at start-up, not on the first claim shown: its clocks could not be computed.
        if value not in holidays.list_supported_countries():
            raise ValueError(f"no holiday calendar for {value!r}: use an ISO 3166 country code, e.g. CN")
        return value

    @field_validator("sla_closures", mode="before")
    @classmethod
    def _closure_days(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        days = set()
        for day in filter(None, (part.strip() for part in value.split(","))):
            try:
                days.add(dt.date.fromisoformat(day))
            except ValueError:
                raise ValueError(f"closure day {day!r} is not a date (YYYY-MM-DD)") from None
        return frozenset(days)

    @field_validator("authority_limits", mode="before")
    @classmethod
    def _person_limits(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        limits = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            name, _, amount = (text.strip() for text in item.partition("="))
            try:
                limits[name] = Decimal(amount)
            except ArithmeticError:
                limits[name] = Decimal(-1)
            if not name or not limits[name].is_finite() or limits[name] < 0:
                raise ValueError(f"{item!r} is not name=amount (e.g. li.wei=20000)")
        return limits

    @field_validator("override_reason_codes", "manual_denial_codes", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        codes = frozenset(filter(None, (part.strip() for part in value.split(","))))
        bad = sorted(c for c in codes if not c.replace("_", "").isalnum() or not c.isupper())
        if bad:
            raise ValueError(f"codes are upper-case words joined by _, not {bad}")
        return codes

    @field_validator("assignment_file")
    @classmethod
    def _assignment(cls, value: Path | None) -> Path | None:
        # Checked here so a bad file is refused naming CLAIMS_ASSIGNMENT_FILE, before start-up.
        try:
            assignment.load(value)
        except assignment.AssignmentError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("aftersales_file")
    @classmethod
    def _aftersales(cls, value: Path | None) -> Path | None:
        try:
            aftersales.load(value)
        except aftersales.AftersalesError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("service_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"no time zone {value!r}: use an IANA name, e.g. Asia/Shanghai") from None
        return value

    @cached_property
    def aftersales(self) -> aftersales.Policy:
        """The after-sales policy in use (the shipped file unless one is set), read once."""
        return aftersales.load(self.aftersales_file)

    @property
    def zone(self) -> ZoneInfo:
        """The zone the service hours are in."""
        return ZoneInfo(self.service_timezone)

    @cached_property
    def assignment(self) -> assignment.Assignment:
        """The assignment policy in use (the shipped file unless one is set), read once."""
        return assignment.load(self.assignment_file)

    @model_validator(mode="after")
    def _aftersales_teams_exist(self) -> Settings:
        named = {
            "complaints.team": self.aftersales.complaints.team,
            "rectification.escalate_to": self.aftersales.rectification.escalate_to,
        }
        for key, team in named.items():
            if team is not None and team not in self.assignment.policy.teams:
                raise ValueError(f"aftersales_file: {key} {team!r} is no team of the assignment file")
        return self

    @model_validator(mode="after")
    def _production_needs_real_parts(self) -> Settings:
        if self.environment == "production":
            if self.resolved_database_url.startswith("sqlite"):
                raise ValueError("production needs DATABASE_URL pointing at PostgreSQL")
            if not (self.api_keys or self.api_keys_file):
                raise ValueError("production needs API keys (CLAIMS_API_KEYS or CLAIMS_API_KEYS_FILE)")
        return self

    @property
    def audit_secret(self) -> bytes | None:
        """The audit key as the HMACs use it, or None when none is set."""
        return self.audit_key.get_secret_value().encode() if self.audit_key else None

    @property
    def resolved_database_url(self) -> str:
        """Return DATABASE_URL, or the embedded SQLite file under the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'claims.db').resolve()}"

    @property
    def keys_file(self) -> Path:
        """Return the API key file (hashes only), by default under the data directory."""
        return self.api_keys_file or self.data_dir / "api_keys.json"

    @property
    def calendar(self) -> Calendar:
        """Return the working-day calendar for SLA clocks."""
        return Calendar(self.sla_country, self.sla_closures)

    @property
    def documents_dir(self) -> Path:
        """Return where uploaded documents are stored."""
        return self.data_dir / "documents"


def explain(error: ValidationError) -> list[str]:
    """Name the environment variable behind each problem with the settings, with its message."""
    lines = []
    for problem in error.errors():
        field = str(problem["loc"][0]) if problem["loc"] else None
        if field is None:  # a check across settings (production needs PostgreSQL and keys)
            variable = "settings"
        elif field.isupper():  # aliased settings are read under their own name (DATABASE_URL)
            variable = field
        else:
            variable = f"CLAIMS_{field.upper()}"
        lines.append(f"{variable}: {problem['msg'].removeprefix('Value error, ')}")
    return lines


@lru_cache
def get_settings() -> Settings:
    """Return the process settings (overridden in tests through the dependency)."""
    return Settings()
