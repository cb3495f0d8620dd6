""" "Why not": for each rule that did not fire, the first part of its condition that failed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from rules import expressions as ex
from rules import facts as fact_io
from rules.facts import EPOCH
from rules.reference import with_documents
from rules.rulebook import Rulebook


def first_failure(node: ex.Node, facts: Mapping[str, Any]) -> ex.Node | None:
    """Return the part of a normalized condition that makes it false (None if it holds)."""
    if ex.evaluate(node, facts):
        return None
    if isinstance(node, ex.And):
        for item in node.items:
            if not ex.evaluate(item, facts):
                return first_failure(item, facts)
    return node  # an atom, or an Or whose every branch failed


def _shown(rulebook: Rulebook, name: str, value: Any) -> Any:
    spec = rulebook.facts.get(name)
    if spec is not None and spec.type == "date" and value is not None:
        return (EPOCH + dt.timedelta(days=int(value))).isoformat()
    return value


def explain(rulebook: Rulebook, raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return every rule with whether it fired and, if not, the failed condition and its facts."""
    encoded = fact_io.encode(rulebook.facts, fact_io.check(rulebook.facts, raw))
    facts, _ = with_documents(rulebook, encoded)
    out = []
    for rule in rulebook.rules:
        failed = first_failure(rule.condition, facts)
        entry: dict[str, Any] = {
            "rule_id": rule.id,
            "code": rule.spec.code,
            "category": rule.spec.category,
            "fired": failed is None,
            "when": ex.render(rule.condition),
        }
        if failed is not None:
            names = ex.fact_names(failed)
            entry["failed"] = ex.render(failed)
            entry["facts"] = {n: _shown(rulebook, n, facts.get(n)) for n in names}
            absent = [n for n in names if facts.get(n) is None]
            if absent:
                entry["absent"] = absent  # a condition on an absent optional fact is false
        out.append(entry)
    return out
