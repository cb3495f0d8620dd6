"""Fraud indicators shared between insurers: keyed hashes of a confirmed fraud's account or phone."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base


class Indicator(Base):
    """One imported indicator: its kind, its keyed hash and who shared it (no raw value)."""

    __tablename__ = "watchlist"
    __table_args__ = (UniqueConstraint("kind", "hash", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # payee_account | phone
    hash: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(80))  # the issuer named in the file
    first_seen: Mapped[dt.date | None] = mapped_column(Date)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
