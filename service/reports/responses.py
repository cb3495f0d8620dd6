"""What the SLA report answers, as published in the contract."""

from __future__ import annotations

from pydantic import BaseModel, Field


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


class Timeliness(BaseModel):
    """Claims of a tier decided and paid in the period, and how many within their working days."""

    decided: int = 0
    decided_on_time: int = 0
    paid: int = 0
    paid_on_time: int = 0
    decided_on_time_share: float | None
    paid_on_time_share: float | None


class CycleTime(BaseModel):
    """Working days from report to payment (or to denial), over the tier's finished claims."""

    n: int
    average: float
    p90: float
    values: list[int]


class InvestigationCounts(BaseModel):
    """Referrals to investigation in the period and what they found."""

    referred: int
    referral_rate: float | None
    confirmed_fraud: int
    cleared: int
    hit_rate: float | None = Field(description="confirmed frauds per referral")


class MethodTotal(BaseModel):
    """Payments by one method: how many, and the sum."""

    count: int
    amount: str = Field(pattern=r"^\d+\.\d{2}$")


class KpiReport(BaseModel):
    """Service-quality figures for the claims reported in a period."""

    model_config = {"populate_by_name": True}
    from_: str = Field(alias="from")
    to: str
    claims: int
    timeliness_by_tier: dict[str, Timeliness]
    outcome_mix: dict[str, int] = Field(description="approved | partially_approved | denied → claims")
    cycle_time_working_days_by_tier: dict[str, CycleTime]
    investigations: InvestigationCounts
    payments_by_method: dict[str, MethodTotal]
    rule_firing_counts: dict[str, int]
