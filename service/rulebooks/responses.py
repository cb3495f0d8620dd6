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
    backtest: dict[str, Any] | None
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
