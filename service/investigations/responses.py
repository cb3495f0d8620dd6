"""What the investigation operations answer, as published in the contract."""

from __future__ import annotations

from pydantic import BaseModel, Field


class InvestigationOut(BaseModel):
    """An investigation: why it was opened, its outcome, who concluded it and when (UTC)."""

    id: int
    claim_number: str
    status: str = Field(description="open | confirmed_fraud | cleared")
    reason: str
    risk_score: float | None
    notes: str | None
    investigator: str | None
    opened_at: str | None = Field(examples=["2026-12-01T09:30:00+00:00"])
    closed_at: str | None
