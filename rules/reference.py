"""Evaluate a rulebook in plain Python: the engine's reference, and the basis of explanations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules import expressions as ex
from rules.rulebook import Rulebook


def with_documents(rulebook: Rulebook, encoded: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Return the facts plus the derived document facts, and the documents required."""
    required = [d.spec.code for d in rulebook.documents if ex.evaluate(d.condition, encoded)]
    received = set(encoded.get("documents_received", ()))
    missing = [d for d in required if d not in received]
    facts = {**encoded, "documents_complete": not missing, "missing_documents_count": len(missing)}
    return facts, required


def fire(rulebook: Rulebook, encoded: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Return the rule ids that hold and the documents required, like RulesEngine.fire."""
    facts, required = with_documents(rulebook, encoded)
    order = sorted(rulebook.rules, key=lambda r: -r.spec.priority)  # stable: declaration order
    fired = [r.id for r in order if ex.evaluate(r.condition, facts)]
    return fired, required
