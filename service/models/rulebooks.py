"""Rulebook versions, stored immutably with their text, so any decision can be replayed."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, String, Text, UniqueConstraint, false, func
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base


class RulebookVersion(Base):
    """The exact text of one rulebook version."""

    __tablename__ = "rulebook_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    # draft -> approved (by a second analyst). When it is in force is the activations' business.
    status: Mapped[str] = mapped_column(String(20), default="draft", server_default="draft")
    uploaded_by: Mapped[str] = mapped_column(String(80), default="shipped", server_default="shipped")
    approved_by: Mapped[str | None] = mapped_column(String(80))
    tests: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    backtest: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Evaluated beside the active version on live claims, without affecting any decision.
    shadow: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class RulebookActivation(Base):
    """A version put in force from a date on (claims reported from that day); later ones supersede.

    A rollback revokes the latest activation, so the schedule before it holds again.
    """

    __tablename__ = "rulebook_activations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("rulebook_versions.id"), index=True)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    activated_by: Mapped[str] = mapped_column(String(80))
    activated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class RulebookEvent(Base):
    """What happened to a rulebook version, by whom: upload, backtest, approval, activation."""

    __tablename__ = "rulebook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("rulebook_versions.id"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ShadowResult(Base):
    """What a shadowed version would have decided for one live adjudication."""

    __tablename__ = "shadow_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("rulebook_versions.id"), index=True)
    claim_number: Mapped[str] = mapped_column(String(30))
    active: Mapped[dict[str, Any]] = mapped_column(JSON)
    shadow: Mapped[dict[str, Any]] = mapped_column(JSON)
    differs: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
