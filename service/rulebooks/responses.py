"""What the rulebook operations answer, as published in the contract."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class InForce(BaseModel):
    """A span of report dates a version decides (open-ended where null)."""

    model_config = {"populate_by_name": True}
    from_: str | None = Field(alias="from")
    to: str | None


class VersionSummary(BaseModel):
    """A stored version: identity, status and the report dates it decides."""

    name: str
    version: str
    sha256: str
    status: str = Field(description="draft | approved | scheduled | active | retired")
    in_force: list[InForce]
    uploaded_by: str | None
    approved_by: str | None
    shadow: bool


class VersionView(VersionSummary):
    """A version with its test results, backtest, history (and diff or what it replaced)."""

    tests: dict[str, Any] | None
    backtest: BacktestReport | None = Field(description="the last backtest run on this version")
    history: list[dict[str, Any]]
    diff_against_active: str | None = None
    replaced: str | None = None


class ShadowReport(BaseModel):
    """What a shadowed version would have decided differently, so far."""

    name: str
    version: str
    shadow: bool
    evaluated: int
    differing: int
    transitions: dict[str, int]
    payable_delta: str
    examples: list[dict[str, Any]]


class VersionRef(BaseModel):
    """One side of a comparison: the version and the sha of its text."""

    name: str
    version: str
    sha256: str


class BacktestScope(BaseModel):
    """Which stored claims were compared, and how many of other lines were set aside."""

    product_column: bool
    kept: int
    set_aside: dict[str, int]


class MissingFact(BaseModel):
    """A fact a rulebook declares that the stored claims lack, and how it was treated."""

    fact: str
    required: bool
    treated_as: str


class Changed(BaseModel):
    """How many claims the candidate decides differently, by aspect."""

    any: int
    coverage: int
    route: int
    payable_amount: int
    investigate: int


class FiringRates(BaseModel):
    """Rule id → share of claims it fired on, per side."""

    baseline: dict[str, float]
    candidate: dict[str, float]


class RuleIds(BaseModel):
    """Rule ids, per side."""

    baseline: list[str]
    candidate: list[str]


class RuleGroups(BaseModel):
    """Groups of rule ids, per side."""

    baseline: list[list[str]]
    candidate: list[list[str]]


class SidesCount(BaseModel):
    """A count for the baseline and one for the candidate."""

    baseline: int
    candidate: int


class InvestigationsOutcome(BaseModel):
    """Where investigation outcomes are stored: what each side would have sent or held up."""

    confirmed_frauds: int
    confirmed_frauds_sent_to_investigation: SidesCount
    cleared_claims_held_up: SidesCount


class PayableTotal(BaseModel):
    """Total payable on the compared claims, and the difference."""

    baseline: str = Field(pattern=r"^-?\d+\.\d{2}$")
    candidate: str = Field(pattern=r"^-?\d+\.\d{2}$")
    delta: str = Field(pattern=r"^-?\d+\.\d{2}$")


class BacktestExample(BaseModel):
    """One claim decided differently: [baseline, candidate] for each aspect."""

    claim: str
    coverage: list[str]
    route: list[str]
    payable_amount: list[str]
    investigate: list[bool]


class BacktestReport(BaseModel):
    """What a candidate version would have decided differently on the stored claims."""

    baseline: VersionRef
    candidate: VersionRef
    claims: int
    scope: BacktestScope
    missing_facts: list[MissingFact]
    changed: Changed
    coverage_transitions: dict[str, dict[str, int]] = Field(description="before → after → claims")
    route_transitions: dict[str, dict[str, int]] = Field(description="before → after → claims")
    payable_total: PayableTotal
    rule_firing_rates: FiringRates
    never_fire: RuleIds = Field(description="rules that fired on no claim")
    always_fire_together: RuleGroups = Field(description="rules that only ever fire together")
    examples: list[BacktestExample]
    investigations: InvestigationsOutcome | None = None
