"""Claims, their documents and reviews, and the append-only decision records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.database import Base
from service.models import feed  # noqa: F401 - numbers every claim event at commit
from service.models.investigations import Investigation
from service.models.payments import Payment
from service.models.policies import Policy

Money = Numeric(14, 2)


class Claim(Base):
    """One claim and where it stands in its lifecycle."""

    __tablename__ = "claims"
    # A provider's recent claims (the provider-load fact): one index for both conditions, so even
    # a plan made without the values cannot scan every recent claim instead.
    __table_args__ = (
        Index("ix_claims_provider_report_date", "provider", "report_date"),
        # The duplicate-suspect fact: a policy's claims of one peril near an incident time.
        Index("ix_claims_policy_id_peril_incident_at", "policy_id", "peril", "incident_at"),
        # A member's open claims (the least-loaded pick at intake, my work): counted from the index.
        Index("ix_claims_owner_status", "owner", "status"),
        # The network facts: other policies' recent claims with the same payee account or phone.
        Index("ix_claims_payee_account_report_date", "payee_account", "report_date"),
        Index("ix_claims_contact_phone_report_date", "contact_phone", "report_date"),
        # One claim per idempotency key and per external reference of one caller.
        Index("uq_claims_reported_by_idempotency_key", "reported_by", "idempotency_key", unique=True),
        Index("uq_claims_reported_by_external_reference", "reported_by", "external_reference", unique=True),
        # GET /v1/claims?updated_since=: the claims changed since a moment.
        Index("ix_claims_updated_at", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_number: Mapped[str] = mapped_column(String(30), unique=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    product: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(30), index=True)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(20))
    incident_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=False))
    report_date: Mapped[dt.date] = mapped_column(Date, index=True)
    peril: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text)
    claimed_amount: Mapped[Decimal] = mapped_column(Money)
    location: Mapped[str | None] = mapped_column(String(300))
    injuries: Mapped[int] = mapped_column(Integer, default=0)
    fatalities: Mapped[int] = mapped_column(Integer, default=0)
    police_report: Mapped[bool] = mapped_column(Boolean, default=False)
    third_party: Mapped[bool] = mapped_column(Boolean, default=False)
    payee_account: Mapped[str] = mapped_column(String(64))
    # Where the customer's messages go (service/outbox): email, else a phone (SMS), and in which language.
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(5), default="zh-CN", server_default="zh-CN")
    # A changed payee holds payment until a specialist verifies it.
    payee_verified: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    payee_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    provider: Mapped[str | None] = mapped_column(String(120))
    facts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # product-specific facts
    # The latest adjudication, denormalized for filtering; the records hold the history.
    route: Mapped[str | None] = mapped_column(String(10), index=True)
    # Who works the claim: a team's queue, and the person who holds it (none while it waits).
    team: Mapped[str | None] = mapped_column(String(40), index=True)
    owner: Mapped[str | None] = mapped_column(String(80))
    # The next SLA due date and the first breached day, as of the last change (adjudication/due.py).
    sla_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    sla_breach_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    coverage: Mapped[str | None] = mapped_column(String(20))
    payable_amount: Mapped[Decimal | None] = mapped_column(Money)
    risk_score: Mapped[float | None]
    risk_band: Mapped[str | None] = mapped_column(String(10), index=True)
    required_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    approved_amount: Mapped[Decimal | None] = mapped_column(Money)
    paid_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    # The case reserve: what this claim may still cost; it and paid_amount hold the policy's exposure.
    reserve: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"), server_default="0")
    # Who reported it and under which key / reference: a retried report finds its claim again.
    reported_by: Mapped[str | None] = mapped_column(String(80))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    external_reference: Mapped[str | None] = mapped_column(String(100))
    rulebook: Mapped[str | None] = mapped_column(String(80))
    # A version named by a re-adjudication; otherwise the version in force at the report date decides.
    rulebook_named: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # Head of the claim's decision-record chain: appending needs no query.
    chain_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    chain_head: Mapped[str] = mapped_column(String(64), default="0" * 64, server_default="0" * 64)
    # HMAC of (id, chain_seq, chain_head) under CLAIMS_AUDIT_KEY, which the database never holds:
    # a chain rewritten, re-hashed or cut short cannot carry a matching seal.
    head_seal: Mapped[str | None] = mapped_column(String(64))
    # Optimistic lock: two writers on one claim cannot both win (payments, transitions).
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once

    policy: Mapped[Policy] = relationship(lazy="joined")
    documents: Mapped[list[Document]] = relationship(back_populates="claim", order_by="Document.id")
    events: Mapped[list[ClaimEvent]] = relationship(order_by="ClaimEvent.id", cascade="save-update")
    reviews: Mapped[list[Review]] = relationship(back_populates="claim", order_by="Review.id")
    payments: Mapped[list[Payment]] = relationship(order_by=Payment.id)
    investigations: Mapped[list[Investigation]] = relationship(order_by=Investigation.id)


class ClaimEvent(Base):
    """A status or route change, timestamped: the SLA clocks are computed from these."""

    __tablename__ = "claim_events"
    # The events a committing transaction still has to number (service/models/feed.py).
    __table_args__ = (
        Index("uq_claim_events_position", "position", unique=True),
        Index(
            "ix_claim_events_unnumbered",
            "id",
            postgresql_where=text("position IS NULL"),
            sqlite_where=text("position IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # status | route | reserve | payee | assign
    old: Mapped[str | None] = mapped_column(String(130))  # assign: "team/owner"
    new: Mapped[str] = mapped_column(String(130))
    why: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # Its place in the change feed, given at commit in commit order (None until then).
    position: Mapped[int | None] = mapped_column(BigInteger)


@event.listens_for(Claim.status, "set")
def _status_changed(target: Claim, value: str, old: object, _initiator: object) -> None:
    if value != old:
        previous = old if isinstance(old, str) else None
        target.events.append(
            ClaimEvent(kind="status", old=previous, new=value, why=None, at=dt.datetime.now(dt.UTC))
        )


class Document(Base):
    """A document received for a claim."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(60))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    stored_path: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="received")  # received|verified|rejected
    reason: Mapped[str | None] = mapped_column(Text)
    received_by: Mapped[str] = mapped_column(String(80))
    checked_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    claim: Mapped[Claim] = relationship(back_populates="documents")


class Review(Base):
    """A preliminary (specialist) or senior review of a claim."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))  # preliminary | senior
    reviewer: Mapped[str] = mapped_column(String(80))
    recommendation: Mapped[str] = mapped_column(String(20))  # approve | deny
    amount: Mapped[Decimal | None] = mapped_column(Money)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    claim: Mapped[Claim] = relationship(back_populates="reviews")


class DecisionRecord(Base):
    """One decision about a claim, chained by hash to the one before it. Never updated."""

    __tablename__ = "decision_records"
    __table_args__ = (UniqueConstraint("claim_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(30))  # adjudication | review | decision | payment | ...
    actor_type: Mapped[str] = mapped_column(String(20))  # rules | person | system
    actor: Mapped[str] = mapped_column(String(80))
    decided_at: Mapped[str] = mapped_column(String(40))  # ISO timestamp, part of the hash
    request_id: Mapped[str | None] = mapped_column(String(64))
    facts: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    facts_hash: Mapped[str | None] = mapped_column(String(64))
    rulebook_name: Mapped[str | None] = mapped_column(String(40))
    rulebook_version: Mapped[str | None] = mapped_column(String(40))
    rulebook_sha256: Mapped[str | None] = mapped_column(String(64))
    model_name: Mapped[str | None] = mapped_column(String(40))
    model_version: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)
    amount: Mapped[str | None] = mapped_column(String(20))
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    previous_hash: Mapped[str] = mapped_column(String(64))
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)


@event.listens_for(DecisionRecord, "before_update")
@event.listens_for(DecisionRecord, "before_delete")
def _append_only(_mapper, _connection, target: DecisionRecord) -> None:
    raise RuntimeError(f"decision record {target.id} is append-only")
