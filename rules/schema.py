"""The shape of a rulebook file, as pydantic models (structure only; meaning is checked later)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FactTypeName = Literal["int", "number", "money", "bool", "string", "date", "list"]
Category = Literal["coverage", "documents", "routing", "risk", "payment"]
Route = Literal["simple", "complex", "major"]
ROUTE_SEVERITY: dict[str, int] = {"simple": 0, "complex": 1, "major": 2}
TIERS = ("simple", "complex", "major")
STAGES = ("document_request", "review", "decision", "payment")

# Facts the outcome itself reads, with the type each must be declared with.
OUTCOME_FACTS: dict[str, str] = {
    "claimed_amount": "money",
    "deductible": "money",
    "sum_insured_remaining": "money",
    "documents_received": "list",
    "incident_date": "date",
    "report_date": "date",
}
# Facts the engine derives from the document checklist; rules may read them.
DERIVED_FACTS: dict[str, str] = {"documents_complete": "bool", "missing_documents_count": "int"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Strict):
    """Customer-facing text in both languages we answer in."""

    zh_CN: str = Field(alias="zh-CN", min_length=1)
    en: str = Field(min_length=1)

    def as_dict(self) -> dict[str, str]:
        """Return the text keyed by locale."""
        return {"zh-CN": self.zh_CN, "en": self.en}


class Messages(_Strict):
    """What a reason says to the customer and to staff."""

    customer: Text
    internal: str = Field(min_length=1)


class FactSpec(_Strict):
    """One input field the rules may read."""

    type: FactTypeName
    unit: str | None = None
    description: str = ""
    required: bool = True
    allowed: tuple[str | int, ...] | None = None
    min: float | None = None
    max: float | None = None
    # Advisory facts (the fraud-risk score) may route or refer a claim but never deny it.
    advisory: bool = False


class Effect(_Strict):
    """What a rule does when it fires."""

    coverage: Literal["covered", "not_covered"] | None = None
    coverage_ratio: float | str | None = None
    route: Route | None = None
    investigate: bool = False
    review: bool = False


class StandardCode(_Strict):
    """Where a reason fits a standard: X12 claim adjustment reason code and group."""

    carc: str | None = None
    group: Literal["CO", "PR", "OA", "PI"] | None = None


class RuleSpec(_Strict):
    """One rule as written by an analyst."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]{1,40}$")
    code: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,60}$")
    category: Category
    when: str
    then: Effect
    priority: int = Field(default=0, ge=0, le=999)
    messages: Messages
    standard: StandardCode | None = None


class DocumentSpec(_Strict):
    """One entry of the document checklist, required when its condition holds."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{1,60}$")
    label: Text
    when: str = "true"


class RulebookSpec(_Strict):
    """A whole rulebook file."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,40}$")
    version: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,40}$")
    effective_from: dt.date
    description: str = ""
    params: dict[str, Any]
    facts: dict[str, FactSpec]
    documents: list[DocumentSpec] = Field(min_length=1)
    rules: list[RuleSpec] = Field(min_length=1)
