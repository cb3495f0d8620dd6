"""How fired rules combine into one decision: the one definition.

Written once over a small set of primitives, and run two ways: on plain Python values for one
claim (the engine, through `outcome.combine`) and on numpy columns for many (`batch.evaluate`,
the backtests). Amounts are integer cents; the coverage ratio an exact fraction; rounding is
half-up to the cent.

- Coverage: `not_covered` if any fired rule says so; else `pending_documents` while a required
  document is missing; else `covered` if a fired rule says so; else `undetermined`. Covered
  becomes `partially_covered` when the ratio is below 1 or the remaining sum insured caps it.
- Payable: (claimed − deductible, at least 0) × the smallest ratio of the fired rules (1 if
  none), capped at the remaining sum insured; 0 when not covered.
- Route: the most severe route of the fired rules; at least `complex` when undetermined; the
  rulebook's `default_route` when no rule routes.
- Review when a fired rule asks for it or the coverage is undetermined; investigate when a
  fired rule asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

from rules.rulebook import Rulebook
from rules.schema import ROUTE_SEVERITY

ROUTES = tuple(sorted(ROUTE_SEVERITY, key=ROUTE_SEVERITY.__getitem__))  # severity -> route name


class _One:
    """Primitives on one claim: `fired` is the set of the fired rules' indices."""

    where = staticmethod(lambda c, a, b: a if c else b)
    maximum = staticmethod(max)
    minimum = staticmethod(min)
    both = staticmethod(lambda a, b: a and b)
    either = staticmethod(lambda a, b: a or b)
    negate = staticmethod(lambda a: not a)

    @staticmethod
    def any_of(fired: frozenset[int], which: Any) -> bool:
        return not fired.isdisjoint(which)

    @staticmethod
    def when(fired: frozenset[int], i: int, value: int, otherwise: Any) -> Any:
        return value if i in fired else otherwise

    @staticmethod
    def full(fired: Any, value: int) -> int:
        return value


class _Columns:
    """Primitives on columns of claims: `fired` is a bool matrix, claims × rules."""

    where = staticmethod(np.where)
    maximum = staticmethod(np.maximum)
    minimum = staticmethod(np.minimum)
    both = staticmethod(np.logical_and)
    either = staticmethod(np.logical_or)
    negate = staticmethod(np.logical_not)

    @staticmethod
    def any_of(fired: np.ndarray, which: list[int]) -> np.ndarray:
        return fired[:, which].any(axis=1) if which else np.zeros(fired.shape[0], dtype=bool)

    @staticmethod
    def when(fired: np.ndarray, i: int, value: int, otherwise: np.ndarray) -> np.ndarray:
        return np.where(fired[:, i], value, otherwise)

    @staticmethod
    def full(fired: np.ndarray, value: int) -> np.ndarray:
        return np.full(fired.shape[0], value, dtype=np.int64)


@dataclass(frozen=True)
class Combined:
    """The combination, for one claim (plain values) or many (columns)."""

    coverage: Any
    payable_cents: Any
    severity: Any  # index into ROUTES
    review: Any
    investigate: Any
    below_deductible: Any  # the system reasons the combination adds
    capped: Any
    undetermined: Any
    default_route: Any


@dataclass(frozen=True)
class _Plan:
    """A rulebook's effects as the combination reads them: which rules do what."""

    index: dict[str, int]  # rule id -> its column
    not_covered: list[int]
    covered: list[int]
    review: list[int]
    investigate: list[int]
    ratios: list[tuple[int, int, int]]  # rule, numerator, denominator
    routes: list[tuple[int, int]]  # rule, route severity
    default_severity: int


_PLANS: dict[str, _Plan] = {}


def _plan(rulebook: Rulebook) -> _Plan:
    plan = _PLANS.get(rulebook.sha256)
    if plan is None:
        effects = [r.spec.then for r in rulebook.rules]
        ratios = [
            (i, Fraction(Decimal(r.ratio))) for i, r in enumerate(rulebook.rules) if r.ratio is not None
        ]
        plan = _PLANS[rulebook.sha256] = _Plan(
            index={r.id: i for i, r in enumerate(rulebook.rules)},
            not_covered=[i for i, e in enumerate(effects) if e.coverage == "not_covered"],
            covered=[i for i, e in enumerate(effects) if e.coverage == "covered"],
            review=[i for i, e in enumerate(effects) if e.review],
            investigate=[i for i, e in enumerate(effects) if e.investigate],
            ratios=[(i, f.numerator, f.denominator) for i, f in ratios],
            routes=[(i, ROUTE_SEVERITY[e.route]) for i, e in enumerate(effects) if e.route],
            default_severity=ROUTE_SEVERITY[rulebook.params["default_route"]],
        )
    return plan


def _combine(
    xp: Any, rulebook: Rulebook, fired: Any, missing: Any, claimed: Any, deductible: Any, limit: Any
) -> Combined:
    plan = _plan(rulebook)
    not_covered = xp.any_of(fired, plan.not_covered)
    covered = xp.any_of(fired, plan.covered)
    coverage = xp.where(
        not_covered,
        "not_covered",
        xp.where(missing, "pending_documents", xp.where(covered, "covered", "undetermined")),
    )
    # The smallest ratio of the fired rules, as an exact fraction num/den.
    num, den = xp.full(fired, 1), xp.full(fired, 1)
    for i, top, bottom in plan.ratios:
        smaller = xp.both(xp.any_of(fired, [i]), top * den < num * bottom)
        num, den = xp.where(smaller, top, num), xp.where(smaller, bottom, den)
    base = xp.maximum(claimed - deductible, 0)
    amount = (2 * base * num + den) // (2 * den)  # half-up to the cent
    payable = xp.where(not_covered, 0, xp.minimum(amount, limit))
    partial = xp.both(coverage == "covered", xp.either(num < den, payable < amount))
    coverage = xp.where(partial, "partially_covered", coverage)
    severity = xp.full(fired, -1)
    for i, level in plan.routes:
        severity = xp.when(fired, i, xp.maximum(severity, level), severity)
    undetermined = coverage == "undetermined"
    severity = xp.where(undetermined, xp.maximum(severity, ROUTE_SEVERITY["complex"]), severity)
    default_route = severity < 0
    severity = xp.where(default_route, plan.default_severity, severity)
    live = xp.negate(not_covered)
    return Combined(
        coverage=coverage,
        payable_cents=payable,
        severity=severity,
        review=xp.either(xp.any_of(fired, plan.review), undetermined),
        investigate=xp.any_of(fired, plan.investigate),
        below_deductible=xp.both(live, base == 0),
        capped=xp.both(xp.both(live, base != 0), payable < amount),
        undetermined=undetermined,
        default_route=default_route,
    )


def one(
    rulebook: Rulebook, fired_ids: Any, missing: bool, claimed: int, deductible: int, limit: int
) -> Combined:
    """Combine one claim's fired rules (their ids); amounts in cents."""
    index = _plan(rulebook).index
    fired = frozenset(index[i] for i in fired_ids)
    return _combine(_One, rulebook, fired, missing, claimed, deductible, limit)


def columns(
    rulebook: Rulebook,
    fired: np.ndarray,
    missing: np.ndarray,
    claimed: np.ndarray,
    deductible: np.ndarray,
    limit: np.ndarray,
) -> Combined:
    """Combine many claims' fired rules (claims × rules); amounts as int64 cents."""
    return _combine(_Columns, rulebook, fired, missing, claimed, deductible, limit)
