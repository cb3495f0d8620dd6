"""Fraud investigations: a hold on a claim until an investigator records the outcome."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base


class Investigation(Base):
    """An investigation of one claim; its outcome is a training label."""

    __tablename__ = "investigations"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open|confirmed_fraud|cleared
    reason: Mapped[str] = mapped_column(Text)
    risk_score: Mapped[float | None]
    notes: Mapped[str | None] = mapped_column(Text)
    investigator: Mapped[str | None] = mapped_column(String(80))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
