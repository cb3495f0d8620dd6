"""API keys kept in the database: only their hash, the person or system, the role."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base


class ApiKey(Base):
    """One key: `claims keys create` prints it once; revoking it ends its use on every host."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the key
    hint: Mapped[str] = mapped_column(String(12))  # its first characters, to tell keys apart
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
