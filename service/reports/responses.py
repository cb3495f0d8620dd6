"""What the SLA report answers, as published in the contract."""

from __future__ import annotations

from pydantic import BaseModel


class SlaBreach(BaseModel):
    """An open claim's stage past its allowed working days."""

    claim_number: str
    tier: str
    stage: str
    state: str
    due: str | None
    working_days_used: int
    allowed_working_days: int
    status: str


class SlaReport(BaseModel):
    """Open claims by tier and stage (counts by clock state), breaches, average days per stage."""

    as_of: str
    open_by_tier_and_stage: dict[str, dict[str, dict[str, int]]]
    breaches: list[SlaBreach]
    average_working_days_per_stage: dict[str, float | None]
