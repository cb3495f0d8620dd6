"""Generate seeded, valid claim facts for a rulebook, with values at its thresholds.

Used by the benchmarks and by the tests that compare the engine with the reference
evaluator; edge values (exactly at a threshold, one step either side, absent optional
facts) are where two evaluators are most likely to disagree.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from rules.rulebook import Rulebook
from rules.schema import FactSpec


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    return []


class _Generator:
    def __init__(self, rulebook: Rulebook, seed: int) -> None:
        self.rulebook = rulebook
        self.rng = random.Random(seed)
        self.thresholds = sorted(set(_numbers(rulebook.params)))

    def edge(self, step: float) -> float | None:
        """Return a threshold, or one step either side of it, a tenth of the time."""
        if not self.thresholds or self.rng.random() > 0.1:
            return None
        return self.rng.choice(self.thresholds) + self.rng.choice((-step, 0, 0, step))

    def money(self, spec: FactSpec) -> str:
        edge = self.edge(0.01)
        value = edge if edge is not None and edge > 0 else 10 ** self.rng.uniform(1, 6.3)
        low = spec.min if spec.min is not None else 0.0
        return str(Decimal(str(max(round(value, 2), low))).quantize(Decimal("0.01")))

    def integer(self, spec: FactSpec) -> int:
        low = int(spec.min) if spec.min is not None else 0
        high = int(spec.max) if spec.max is not None else low + 6
        edge = self.edge(1)
        if edge is not None and low <= edge and (spec.max is None or edge <= spec.max):
            return int(edge)
        # Mostly the low end: counts of injuries or prior claims are usually zero.
        return low if self.rng.random() < 0.7 else self.rng.randint(low, high)

    def dates(self) -> dict[str, str]:
        start = dt.date(2025, 1, 1) + dt.timedelta(days=self.rng.randrange(0, 540))
        end = start + dt.timedelta(days=364)
        offset = self.rng.choice(
            (self.rng.randrange(0, 365), self.rng.randrange(0, 60), self.rng.randrange(-40, 400))
        )
        edge = self.edge(1)
        if edge is not None and 0 <= edge < 365:
            offset = int(edge)
        incident = start + dt.timedelta(days=offset)
        delay = int(self.rng.expovariate(0.25))
        edge = self.edge(1)
        if edge is not None and 0 <= edge < 400:
            delay = int(edge)
        report = incident + dt.timedelta(days=delay)
        named = {
            "policy_start": start,
            "policy_end": end,
            "incident_date": incident,
            "report_date": report,
        }
        return {k: v.isoformat() for k, v in named.items()}

    def value(self, name: str, spec: FactSpec, dates: dict[str, str]) -> Any:
        if spec.type == "date":
            if name in dates:
                return dates[name]
            return (dt.date(2025, 1, 1) + dt.timedelta(days=self.rng.randrange(730))).isoformat()
        if spec.type == "money":
            return self.money(spec)
        if spec.type == "int":
            return self.integer(spec)
        if spec.type == "number":
            return round(self.rng.uniform(spec.min or 0.0, spec.max or 1.0), 4)
        if spec.type == "bool":
            return self.rng.random() < 0.2
        if spec.type == "string":
            return self.rng.choice(spec.allowed) if spec.allowed else "x"
        allowed = list(spec.allowed or ())
        if self.rng.random() < 0.6:
            return allowed
        return [a for a in allowed if self.rng.random() < 0.7]

    def claim(self) -> dict[str, Any]:
        dates = self.dates()
        out: dict[str, Any] = {}
        for name, spec in self.rulebook.facts.items():
            if not spec.required and self.rng.random() < 0.1:
                continue
            out[name] = self.value(name, spec, dates)
        if "sum_insured_remaining" in out and self.rng.random() < 0.8:
            # Usually enough cover left; sometimes not, so the cap is exercised too.
            out["sum_insured_remaining"] = str(max(Decimal(out["claimed_amount"]) * 3, Decimal("1000.00")))
        return out


def generate(rulebook: Rulebook, n: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Yield n valid raw claims (JSON-like values) for a rulebook, reproducibly."""
    gen = _Generator(rulebook, seed)
    for _ in range(n):
        yield gen.claim()
