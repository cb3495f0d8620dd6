"""What the claim operations answer, as published in the contract (checked against real answers
by the fuzz run's schema-conformance check)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from service.lifecycle import STATES

# Amounts travel as decimal strings (exact cents), never as binary floats.
MoneyText = Annotated[str, Field(pattern=r"^-?\d+(\.\d{1,2})?$", examples=["3700.00"])]
DateText = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", examples=["2026-12-01"])]
Labels = dict[str, str]  # {"zh-CN": …, "en": …}


class StageClock(BaseModel):
    """One SLA stage: working days allowed, used and left, and whether breached."""

    stage: str
    state: str = Field(description="not_started | running | paused | done")
    allowed_working_days: int
    started: DateText | None
    due: DateText | None
    completed: DateText | None
    working_days_used: int
    working_days_left: int
    breached: bool


class Move(BaseModel):
    """A change of the claim's route (with its reason codes) or of its reserve (with its reason)."""

    model_config = {"populate_by_name": True}
    from_: str | None = Field(alias="from")
    to: str
    why: str | None
    at: str


class Clocks(BaseModel):
    """The claim's SLA clocks for its tier."""

    tier: str
    calendar: str
    breached: bool
    next_due: DateText | None
    due_soon: bool
    stages: list[StageClock]
    reroutes: list[Move]


class ClaimSummary(BaseModel):
    """A claim as listed."""

    claim_number: str = Field(examples=["CLM-2026-0000001"])
    policy_number: str
    product: str
    status: Literal[STATES]  # type: ignore[valid-type]
    on_hold: bool
    peril: str
    report_date: DateText
    claimed_amount: MoneyText
    route: str | None
    coverage: str | None
    payable_amount: MoneyText | None
    risk_band: str | None
    team: str | None = Field(description="the team whose queue holds the claim (service/assignment.yaml)")
    owner: str | None = Field(description="the person working the claim; none while it waits in the queue")


class ListedClaim(ClaimSummary):
    """A claim as listed, with where its SLA clocks stand."""

    sla_breached: bool
    sla_due_soon: bool
    sla_next_due: DateText | None
    sla_stages: list[StageClock]


class ClaimPage(BaseModel):
    """One page of claims and the total that match."""

    total: int
    limit: int
    offset: int
    items: list[ListedClaim]


class Reason(BaseModel):
    """Why part of a decision came out as it did."""

    model_config = {"extra": "allow"}
    code: str
    category: str
    customer: Labels


class Adjudication(BaseModel):
    """The latest rules decision."""

    coverage: str
    payable_amount: MoneyText
    route: str
    investigate: bool
    review: bool
    reasons: list[Reason]
    record_seq: int


class Risk(BaseModel):
    """The fraud-risk early warning: advisory, never a denial."""

    model_config = {"extra": "allow"}
    score: float | None
    band: str | None
    model: str | None


class ChecklistItem(BaseModel):
    """A document the claim needs, with its labels."""

    code: str
    label: Labels


class ReceivedDocument(BaseModel):
    """A document received, and how it was checked."""

    id: int
    doc_type: str
    file_name: str
    sha256: str
    status: str
    reason: str | None
    stored: bool


class Documents(BaseModel):
    """The checklist: required, still missing, received."""

    required: list[ChecklistItem]
    missing: list[ChecklistItem]
    received: list[ReceivedDocument]


class ReviewShown(BaseModel):
    """A preliminary or senior review."""

    stage: str
    reviewer: str
    recommendation: str
    amount: MoneyText | None
    notes: str


class PaymentShown(BaseModel):
    """A payment made."""

    reference: str
    method: str
    amount: MoneyText
    payee: str
    status: str


class InvestigationShown(BaseModel):
    """The claim's latest investigation."""

    id: int
    status: str
    reason: str


class ClaimDetail(ClaimSummary):
    """Everything about a claim a caller may need to act on it."""

    allowed_actions: list[str]
    channel: str
    incident_at: str
    description: str
    approved_amount: MoneyText | None
    paid_amount: MoneyText
    reserve: MoneyText
    reserve_history: list[Move]
    payee_account: str
    payee_verified: bool
    contact_email: str | None = Field(description="where the customer's messages go (email)")
    contact_phone: str | None = Field(description="or their phone (SMS)")
    language: str = Field(description="the customer's language: zh-CN or en")
    external_reference: str | None
    rulebook: str | None
    adjudication: Adjudication | None
    risk: Risk
    documents: Documents
    reviews: list[ReviewShown]
    payments: list[PaymentShown]
    sla: Clocks
    investigation: InvestigationShown | None


class DocumentAdded(BaseModel):
    """A registered document and the claim it moved."""

    document_id: int
    claim: ClaimDetail


class Explanation(BaseModel):
    """Why not: each rule of the latest decision, fired or not."""

    claim_number: str
    record_seq: int
    rulebook: str
    facts: dict[str, Any]
    fired: list[dict[str, Any]]
    not_fired: list[dict[str, Any]]


class QueueCount(BaseModel):
    """One team's queue: its open claims, those nobody holds yet, and those past a deadline."""

    team: str
    label: dict[str, str]
    members: list[str]
    mine: bool = Field(description="whether the caller is a member")
    open: int
    waiting: int = Field(description="open claims nobody holds yet")
    breached: int


class Queue(BaseModel):
    """A queue's claims, the next SLA due date first."""

    queue: str
    total: int
    limit: int
    offset: int
    items: list[ListedClaim]


class MessageOut(BaseModel):
    """A message to the customer and where its delivery stands."""

    id: int
    event: str = Field(description="acknowledgement, reminder, denial, payment, survey_invitation...")
    channel: str = Field(description="email | sms | app | none (no contact known)")
    recipient: str | None
    lang: str
    subject: str
    body: str
    status: str = Field(description="queued | sending | sent | failed | undeliverable")
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None
