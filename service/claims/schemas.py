"""Claim requests and responses."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.schemas import Amount, PastDate, PastDateTime, Strict, Texts


class ClaimIn(Strict):
    """First notice of loss."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "policy_number": "DEMO-MOTOR-0001",
                    "channel": "app",
                    "incident_at": "2026-11-30T14:00:00",
                    "peril": "single_vehicle",
                    "description": "Hit a bollard while parking.",
                    "claimed_amount": "4200.00",
                    "payee_account": "6222 0000 1111 2222",
                    "facts": {
                        "driver_intoxicated": False,
                        "driver_licensed": True,
                        "intentional_loss": False,
                        "catastrophe_event": False,
                    },
                }
            ]
        }
    )

    policy_number: str = Field(min_length=1, max_length=40)
    channel: Literal["hotline", "online", "app", "email"]
    incident_at: PastDateTime
    report_date: PastDate | None = None  # defaults to today; set when loading history
    peril: str = Field(min_length=1, max_length=40)
    description: str = Field(min_length=1, max_length=4000)
    claimed_amount: Amount
    location: str | None = Field(default=None, max_length=300)
    injuries: int = Field(default=0, ge=0, le=1000)
    fatalities: int = Field(default=0, ge=0, le=1000)
    police_report: bool = False
    third_party: bool = False
    payee_account: str = Field(pattern=r"^[A-Za-z0-9 -]{6,64}$")
    provider: str | None = Field(default=None, max_length=120)
    facts: dict[str, Any] = Field(default_factory=dict, description="product-specific facts")
    # The caller's own reference for the claim, unique per caller: it can find its claim again.
    external_reference: str | None = Field(default=None, min_length=1, max_length=100)
    # Where the customer's messages go: email if given, else a phone (SMS); and their language.
    contact_email: str | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    contact_phone: str | None = Field(default=None, pattern=r"^\+?[0-9 -]{6,20}$")
    language: Literal["zh-CN", "en"] = "zh-CN"

    @model_validator(mode="after")
    def _dates(self) -> ClaimIn:
        if self.report_date is not None and self.report_date < self.incident_at.date():
            raise ValueError("report_date: must not be before the incident")
        return self


class PayeeChange(Strict):
    """A new account to pay the claim to, and why the customer asked for it."""

    payee_account: str = Field(pattern=r"^[A-Za-z0-9 -]{6,64}$")
    reason: str = Field(min_length=3, max_length=1000)


class ReadjudicateIn(Strict):
    """Optionally, a stored version to adjudicate with instead of the one in force at the report date."""

    rulebook_version: str | None = Field(default=None, min_length=1, max_length=40)
    reason: str | None = Field(default=None, min_length=3, max_length=1000)

    @model_validator(mode="after")
    def _reason_with_version(self) -> ReadjudicateIn:
        if self.rulebook_version is not None and self.reason is None:
            raise ValueError("reason: is required when a rulebook_version is named")
        return self


class DocumentIn(Strict):
    """A document received from the customer."""

    doc_type: str = Field(min_length=1, max_length=60)
    file_name: str = Field(min_length=1, max_length=255)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_base64: str | None = Field(default=None, max_length=1_400_000)


class DocumentCheck(Strict):
    """A specialist's check of a document."""

    status: Literal["verified", "rejected"]
    reason: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _reason(self) -> DocumentCheck:
        if self.status == "rejected" and not self.reason:
            raise ValueError("reason: a rejected document needs one")
        return self


class AssignmentIn(Strict):
    """Take a claim from its team's queue, give it back, or (a senior reviewer) hand it on."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"action": "take"},
                {"action": "reassign", "team": "motor-claims", "to": "chen.jing", "reason": "leave"},
            ]
        }
    )
    action: Literal["take", "release", "reassign"]
    team: str | None = Field(
        default=None, max_length=40, description="reassign: the team (default: the claim's)"
    )
    to: str | None = Field(default=None, max_length=80, description="reassign: a member of the team, or none")
    reason: str | None = Field(default=None, max_length=500, description="reassign: why (required)")


class ReviewIn(Strict):
    """A preliminary or senior review."""

    stage: Literal["preliminary", "senior"]
    recommendation: Literal["approve", "deny"]
    amount: Amount | None = None
    notes: str = Field(default="", max_length=4000)


class DecisionIn(Strict):
    """The decision: approve an amount or deny with reasons the customer can read."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"outcome": "approve", "amount": "3700.00"},
                {"outcome": "approve", "amount": "3900.00", "override_reason_code": "EX_GRATIA"},
                {"outcome": "deny"},
            ]
        }
    )

    outcome: Literal["approve", "deny"]
    amount: Amount | None = None
    override_reason_code: str | None = Field(default=None, pattern=r"^[A-Z][A-Z0-9_]{1,60}$")
    # A denial's codes default to the rules' not-covered reasons, its explanation to their texts.
    reason_codes: list[Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,60}$")]] = Field(
        default_factory=list, max_length=20
    )
    explanation: Texts | None = None

    @model_validator(mode="after")
    def _shape(self) -> DecisionIn:
        if self.outcome == "approve" and self.amount is None:
            raise ValueError("amount: an approval needs one")
        return self


class RecordOut(BaseModel):
    """A decision record."""

    model_config = ConfigDict(from_attributes=True)
    seq: int
    kind: str
    actor_type: str
    actor: str
    decided_at: str
    request_id: str | None
    facts_hash: str | None
    rulebook_name: str | None
    rulebook_version: str | None
    rulebook_sha256: str | None
    model_name: str | None
    model_version: str | None
    outcome: dict[str, Any]
    amount: str | None
    reasons: list[dict[str, Any]]
    previous_hash: str
    record_hash: str
