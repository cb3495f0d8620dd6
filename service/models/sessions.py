"""The workbench's sign-ins: one row per session, so signing out ends it on every worker."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from service.database import Base


class WorkbenchSession(Base):
    """A person's signed-in session; the cookie carries only its random id."""

    __tablename__ = "workbench_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie's token
    person: Mapped[str] = mapped_column(String(80))
    key_hash: Mapped[str] = mapped_column(String(64))  # whose key: a key removed ends the session
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
