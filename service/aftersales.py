"""The after-sales policy: service commitments (reply, complaint and document deadlines, survey
timing, rectification, KPI targets) and the customer's message templates in zh-CN and en.

Declared in `service/aftersales.yaml` (or CLAIMS_AFTERSALES_FILE) and checked whole at start-up:
a template naming a placeholder its event does not supply is refused, so no message can go out
with a hole in it. The clock of minutes within service hours lives here too.
"""

from __future__ import annotations

import datetime as dt
import string
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from service.sla import Calendar

SHIPPED = Path(__file__).with_name("aftersales.yaml")
LANGS = ("zh-CN", "en")
# Each event's placeholders: what the service can fill in when the event happens.
EVENTS: dict[str, frozenset[str]] = {
    "acknowledgement": frozenset({"claim_number", "documents", "document_deadline"}),
    "acknowledgement_complete": frozenset({"claim_number"}),
    "document_reminder": frozenset({"claim_number", "documents", "document_deadline"}),
    "documents_lapsed": frozenset({"claim_number", "documents", "document_deadline"}),
    "document_rejected": frozenset({"claim_number", "document", "reason"}),
    "denial": frozenset({"claim_number", "reasons"}),
    "approval": frozenset({"claim_number", "amount"}),
    "payment": frozenset({"claim_number", "amount", "method", "reference"}),
    "survey_invitation": frozenset({"claim_number", "survey_link", "token_days"}),
}


class AftersalesError(ValueError):
    """An after-sales policy that cannot be used; the message names every problem."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Texts(_Strict):
    """A text in both languages."""

    zh_cn: str = Field(alias="zh-CN", min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in a language (Chinese unless English is asked for)."""
        return self.en if lang == "en" else self.zh_cn


class Template(_Strict):
    """One event's message: its subject and body."""

    subject: Texts
    body: Texts


class Hours(_Strict):
    """The service hours of a working day."""

    start: dt.time
    end: dt.time

    @model_validator(mode="after")
    def _ordered(self) -> Hours:
        if self.end <= self.start:
            raise ValueError("service_hours: end must be after start")
        return self


class Documents(_Strict):
    """The document deadline's reminder and what happens when it passes."""

    reminder_days_before: int = Field(ge=0, le=60)
    at_deadline: Literal["refer_to_specialist", "close_incomplete"]


class Complaints(_Strict):
    """Who answers complaints, their first-response minutes and resolution working days."""

    team: str = Field(min_length=1, max_length=40)
    first_response_minutes: int = Field(ge=1, le=24 * 60)
    resolution_working_days: dict[Literal["low", "medium", "high"], int]
    escalate_at: float = Field(gt=0, le=1)

    @model_validator(mode="after")
    def _every_severity(self) -> Complaints:
        missing = {"low", "medium", "high"} - set(self.resolution_working_days)
        if missing:
            raise ValueError(f"resolution_working_days needs {sorted(missing)}")
        return self


class Survey(_Strict):
    """When the satisfaction survey is sent, and how long its link works."""

    after: tuple[Literal["paid", "denied"], ...]
    delay_hours: int = Field(ge=0, le=24 * 30)
    token_days: int = Field(ge=1, le=90)
    # When a member of the claim's team calls the customer instead of sending the link: a
    # customer with no email, a major claim.
    phone_when: tuple[Literal["no_email", "major"], ...] = ()
    phone_attempts: int = Field(default=3, ge=1, le=10)  # calls without an answer before it lapses


class Rectification(_Strict):
    """A rectification item's default deadline, and what opens one without a supervisor."""

    default_working_days: int = Field(ge=1, le=120)
    open_on: tuple[Literal["upheld_complaint", "low_rating", "sla_breach"], ...] = ()
    low_rating_at_most: int = Field(default=2, ge=1, le=4)
    escalate_to: str | None = Field(default=None, max_length=40)  # the team told of overdue items


class Policy(_Strict):
    """A whole after-sales policy file."""

    version: str = Field(min_length=1, max_length=40)
    service_hours: Hours
    email_reply_days: int = Field(ge=0, le=30)
    documents: Documents
    complaints: Complaints
    survey: Survey
    rectification: Rectification
    kpi_targets: dict[str, float]
    messages: dict[str, Template]

    @model_validator(mode="after")
    def _templates(self) -> Policy:
        problems = [f"messages: no template for {e!r}" for e in EVENTS if e not in self.messages]
        problems += [
            f"messages: {e!r} is no event (events: {sorted(EVENTS)})"
            for e in self.messages
            if e not in EVENTS
        ]
        for event, template in self.messages.items():
            allowed = EVENTS.get(event, frozenset())
            for part, texts in (("subject", template.subject), ("body", template.body)):
                for lang in LANGS:
                    names = _placeholders(texts.get(lang))
                    unknown = sorted(names - allowed) if names is not None else ["(an unbalanced brace)"]
                    if unknown:
                        problems.append(
                            f"messages.{event}.{part}.{lang}: unknown placeholders {unknown}; "
                            f"this event supplies {sorted(allowed)}"
                        )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def first_response_due(
        self, received: dt.datetime, channel: str, calendar: Calendar, zone: dt.tzinfo
    ) -> dt.datetime:
        """When a complaint's first response is due: service minutes, or an email's reply days."""
        if channel == "email":
            return self._closing(received, self.email_reply_days, calendar, zone)
        minutes = self.complaints.first_response_minutes
        return service_minutes_later(received, minutes, calendar, self.service_hours, zone)

    def resolution_due(
        self, received: dt.datetime, severity: str, calendar: Calendar, zone: dt.tzinfo
    ) -> dt.datetime:
        """When a complaint's resolution is due: the close of its severity's last working day."""
        return self._closing(received, self.complaints.resolution_working_days[severity], calendar, zone)

    def _closing(self, received: dt.datetime, days: int, calendar: Calendar, zone: dt.tzinfo) -> dt.datetime:
        last_day = calendar.add(received.astimezone(zone).date(), days)
        return dt.datetime.combine(last_day, self.service_hours.end, zone).astimezone(dt.UTC)

    def reminder_day(self, deadline: dt.date, calendar: Calendar) -> dt.date:
        """The day of the document reminder: so many working days before the deadline."""
        day, left = deadline, self.documents.reminder_days_before
        while left > 0:
            day -= dt.timedelta(days=1)
            left -= calendar.is_working_day(day)
        return day

    def render(self, event: str, lang: str, values: dict[str, Any]) -> tuple[str, str]:
        """The subject and body of an event's message in a language, filled in."""
        template = self.messages[event]
        shown = {k: str(v) for k, v in values.items()}
        return template.subject.get(lang).format_map(shown), template.body.get(lang).format_map(shown)


def _placeholders(text: str) -> set[str] | None:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return None


def _read(source: Path) -> Any:
    try:
        return yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise AftersalesError(f"{source}: {exc}") from None


def load(path: Path | None = None) -> Policy:
    """Read and check an after-sales policy file (the shipped one by default), and run its test
    table (`NAME.tests.yaml` beside it) if it has one: a policy whose table fails is refused."""
    source = path or SHIPPED
    try:
        policy = Policy.model_validate(_read(source))
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()]
        raise AftersalesError(f"{source}: " + "; ".join(lines)) from None
    table = source.with_name(source.name.removesuffix(".yaml") + ".tests.yaml")
    if table.exists():
        failures = check(policy, _read(table) or {})
        if failures:
            raise AftersalesError(f"{table}: " + "; ".join(failures))
    return policy


def check(policy: Policy, table: dict[str, Any]) -> list[str]:
    """Run a test table against a policy; return each case that does not hold."""
    from zoneinfo import ZoneInfo

    calendar = Calendar(table.get("calendar", "CN"))
    zone = ZoneInfo(table.get("zone", "Asia/Shanghai"))
    moment = lambda text: dt.datetime.fromisoformat(str(text))  # noqa: E731
    failures = []
    for i, case in enumerate(table.get("first_response", [])):
        got = policy.first_response_due(
            moment(case["received"]), case.get("channel", "hotline"), calendar, zone
        )
        if got != moment(case["due"]):
            failures.append(
                f"first_response.{i}: due {got.astimezone(zone).isoformat()}, the table says {case['due']}"
            )
    for i, case in enumerate(table.get("resolution", [])):
        got = policy.resolution_due(moment(case["received"]), case["severity"], calendar, zone)
        if got != moment(case["due"]):
            failures.append(
                f"resolution.{i}: due {got.astimezone(zone).isoformat()}, the table says {case['due']}"
            )
    for i, case in enumerate(table.get("reminder", [])):
        got = policy.reminder_day(dt.date.fromisoformat(str(case["deadline"])), calendar)
        if got.isoformat() != str(case["reminder"]):
            failures.append(f"reminder.{i}: {got}, the table says {case['reminder']}")
    return failures


def service_minutes_later(
    start: dt.datetime, minutes: int, calendar: Calendar, hours: Hours, zone: dt.tzinfo
) -> dt.datetime:
    """The moment `minutes` of service time after `start` (only working days' service hours count)."""
    local = start.astimezone(zone)
    left = minutes
    day = local.date()
    moment = local
    while True:
        if calendar.is_working_day(day):
            opens = dt.datetime.combine(day, hours.start, zone)
            closes = dt.datetime.combine(day, hours.end, zone)
            begin = max(moment, opens)
            if begin < closes:
                available = int((closes - begin).total_seconds() // 60)
                if left <= available:
                    return (begin + dt.timedelta(minutes=left)).astimezone(dt.UTC)
                left -= available
        day += dt.timedelta(days=1)
        moment = dt.datetime.combine(day, dt.time(0), zone)
