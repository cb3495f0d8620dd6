"""Run an analyst's test table (given facts -> expected adjudication) against a rulebook."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from rules.engine import RulesEngine
from rules.facts import InvalidFacts
from rules.outcome import COVERAGES, Adjudication
from rules.rulebook import Rulebook, load
from rules.schema import Route


class Expect(BaseModel):
    """What a case expects; only the keys given are checked."""

    model_config = ConfigDict(extra="forbid")
    coverage: str | None = Field(default=None, json_schema_extra={"enum": list(COVERAGES)})
    route: Route | None = None
    payable_amount: Decimal | None = None
    reasons: list[str] | None = None
    reasons_include: list[str] | None = None
    missing_documents: list[str] | None = None
    investigate: bool | None = None
    review: bool | None = None
    error_fields: list[str] | None = None


class Case(BaseModel):
    """One row of a test table."""

    model_config = ConfigDict(extra="forbid")
    name: str
    facts: dict[str, Any] = {}
    expect: Expect


class Table(BaseModel):
    """A whole test table file."""

    model_config = ConfigDict(extra="forbid")
    rulebook: str
    base: dict[str, Any] = {}
    cases: list[Case] = Field(min_length=1)


@dataclass
class CaseResult:
    """How one case went."""

    name: str
    failures: list[str]
    adjudication: Adjudication | None = None

    @property
    def passed(self) -> bool:
        """Return whether every expectation held."""
        return not self.failures


@dataclass
class TableResult:
    """How a whole table went, and which rules it never exercised."""

    path: Path
    rulebook: Rulebook
    cases: list[CaseResult] = field(default_factory=list)
    unfired: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Return whether every case passed and every rule fired at least once."""
        return all(c.passed for c in self.cases) and not self.unfired


def table_path(rulebook_path: Path) -> Path:
    """Return the test table that sits beside a rulebook file."""
    return rulebook_path.with_name(rulebook_path.name.removesuffix(".yaml") + ".tests.yaml")


def case_facts(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Merge a case's facts over the table's base; a null override removes the fact."""
    merged = {**base, **overrides}
    return {k: v for k, v in merged.items() if v is not None}


def _check(expect: Expect, got: Adjudication) -> Iterator[str]:
    pairs = [
        ("coverage", expect.coverage, got.coverage),
        ("route", expect.route, got.route),
        ("payable_amount", expect.payable_amount, got.payable_amount),
        ("investigate", expect.investigate, got.investigate),
        ("review", expect.review, got.review),
    ]
    for name, want, have in pairs:
        if want is not None and want != have:
            yield f"{name}: expected {want}, got {have}"
    codes = list(got.reason_codes)
    if expect.reasons is not None and sorted(expect.reasons) != sorted(codes):
        yield f"reasons: expected {sorted(expect.reasons)}, got {sorted(codes)}"
    for code in expect.reasons_include or ():
        if code not in codes:
            yield f"reasons: expected {code} among {codes}"
    if expect.missing_documents is not None:
        want, have = sorted(expect.missing_documents), sorted(got.missing_documents)
        if want != have:
            yield f"missing_documents: expected {want}, got {have}"


def run_case(engine: RulesEngine, base: Mapping[str, Any], case: Case) -> CaseResult:
    """Evaluate one case and compare it with what it expects."""
    facts = case_facts(base, case.facts)
    try:
        got = engine.evaluate(facts)
    except InvalidFacts as exc:
        fields = sorted(p.field for p in exc.problems)
        if case.expect.error_fields is not None and fields == sorted(case.expect.error_fields):
            return CaseResult(case.name, [])
        return CaseResult(case.name, [f"facts refused: {exc}"])
    if case.expect.error_fields is not None:
        return CaseResult(case.name, [f"expected the facts refused on {case.expect.error_fields}"])
    return CaseResult(case.name, list(_check(case.expect, got)), got)


def run_table(path: str | Path) -> TableResult:
    """Run every case of a test table; also report rules no case fired."""
    path = Path(path)
    table = Table.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    rulebook = load(path.parent / table.rulebook)
    result = TableResult(path, rulebook)
    fired: set[str] = set()
    with RulesEngine(rulebook) as engine:
        for case in table.cases:
            outcome = run_case(engine, table.base, case)
            result.cases.append(outcome)
            if outcome.adjudication is not None:
                fired.update(outcome.adjudication.rules_fired)
    result.unfired = [r.id for r in rulebook.rules if r.id not in fired]
    return result
