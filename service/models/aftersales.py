"""After-sales tables: the outbox of customer messages, timed jobs, surveys and complaints."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base


class Message(Base):
    """A message to a customer: written with the change that causes it, delivered by the worker."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    # One message per event of a claim: a retried request or a rerun job writes nothing new.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(10))  # email | sms | app | none
    recipient: Mapped[str | None] = mapped_column(String(200))
    lang: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(15))  # queued | sending | sent | failed | undeliverable
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Job(Base):
    """Timed work (a reminder, a lapse, a survey invitation): survives restarts, runs once."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_status_due_at", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    due_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(15))  # pending | done | cancelled | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    last_error: Mapped[str | None] = mapped_column(Text)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Survey(Base):
    """A satisfaction survey of one claim: a one-time link, then the customer's rating."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    handlers: Mapped[list[str]] = mapped_column(JSON, default=list)  # who worked the claim
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rating: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    # online: the customer answers through the link; phone: a member of the team calls them.
    method: Mapped[str] = mapped_column(String(10), default="online", server_default="online")
    team: Mapped[str | None] = mapped_column(String(40))  # a phone follow-up's team and caller
    assignee: Mapped[str | None] = mapped_column(String(80))
    calls: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # unanswered calls
    answered_by: Mapped[str | None] = mapped_column(String(80))  # who took the answer by phone


class Complaint(Base):
    """A complaint or inquiry, with its first-response and resolution clocks."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_owner_status", "owner", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    customer: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(200))
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(15), index=True)  # open | responded | resolved
    team: Mapped[str | None] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(80))  # the team member who handles it
    received_by: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    first_response_due: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    resolution_due: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    responded_by: Mapped[str | None] = mapped_column(String(80))
    response: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    resolution: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(String(40))
    upheld: Mapped[bool | None] = mapped_column(Boolean)


class Rectification(Base):
    """A problem to put right: who owns it, what must be done, by when, and the evidence it was."""

    __tablename__ = "rectifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(20))  # supervisor | complaint | survey | sla_breach
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaints.id"))
    owner_team: Mapped[str | None] = mapped_column(String(40))
    owner: Mapped[str | None] = mapped_column(String(80))
    requirement: Mapped[str] = mapped_column(Text)
    deadline: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), index=True)  # open | closed
    opened_by: Mapped[str] = mapped_column(String(80))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(80))
    evidence: Mapped[str | None] = mapped_column(Text)
    # An item still open past its deadline is escalated once, to the policy's supervising team.
    escalated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_to: Mapped[str | None] = mapped_column(String(40))
