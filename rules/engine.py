"""Compile rulebooks onto durable-rules and evaluate claims: the only module that imports it.

Each claim runs in a fresh session (its own sid) whose state is deleted afterwards, in two
asserts: first the document checklist (a "docs" fact), then every rule (a "claim" fact) with
the derived facts `documents_complete` and `missing_documents_count`.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

import durable_rules_engine

from rules import expressions as ex
from rules import facts as fact_io
from rules.outcome import Adjudication, combine
from rules.rulebook import Rulebook

# Every list fact carries this extra item: an empty array never matches $iall in durable-rules.
LIST_SENTINEL = "\u0000"
# A catch-all rule per stage: an assert no rule matches leaves a session that crashes the
# process when deleted, and the catch-all firing proves the action queue was walked to its end.
_END_PRIORITY = 100_000
_DURABLE_OP = {"!=": "$neq", "<": "$lt", "<=": "$lte", ">": "$gt", ">=": "$gte"}
_DURABLE_ARITH = {"+": "$add", "-": "$sub", "*": "$mul", "/": "$div"}


class EngineError(RuntimeError):
    """The engine did not complete an evaluation."""


def _operand(node: ex.Node) -> Any:
    if isinstance(node, ex.Const | ex.Param):
        return node.value
    if isinstance(node, ex.Fact):
        return {"$m": node.name}
    if isinstance(node, ex.Arith):
        return {_DURABLE_ARITH[node.op]: {"$l": _operand(node.left), "$r": _operand(node.right)}}
    if isinstance(node, ex.DaysBetween):
        return {"$sub": {"$l": _operand(node.end), "$r": _operand(node.start)}}
    raise AssertionError(f"not an operand: {node!r}")


def _compare(op: str, field: str, value: Any) -> dict[str, Any]:
    return {field: value} if op == "==" else {_DURABLE_OP[op]: {field: value}}


def _atom(node: ex.Node) -> dict[str, Any]:
    if isinstance(node, ex.Present):
        return {"$nex" if node.negated else "$ex": {node.fact.name: 1}}
    if isinstance(node, ex.Contains):
        name, item = node.container.name, node.item
        if node.negated:
            return {"$iall": {name: {"$neq": {"$i": item}}}}
        return {"$iany": {name: {"$i": item}}}
    if isinstance(node, ex.InList):
        field = _field(node.item)
        if node.negated:
            return {"$and": [_compare("!=", *field(v)) for v in node.options]}
        return {"$or": [_compare("==", *field(v)) for v in node.options]}
    if isinstance(node, ex.Compare):
        left, right, op = node.left, node.right, node.op
        if not isinstance(left, ex.Fact) and isinstance(right, ex.Fact):
            left, right, op = right, left, ex.FLIPPED_OP[op]
        if isinstance(left, ex.Fact):
            return _compare(op, left.name, _operand(right))
        # Durable-rules wants a field on the left: compare 0 with (right - left) instead.
        return _compare(op, "_zero", _operand(ex.Arith("-", right, left)))
    raise AssertionError(f"not an atom: {node!r}")


def _field(item: ex.Node) -> Callable[[Any], tuple[str, Any]]:
    """Return how to test `item == value` with a field on the left."""
    if isinstance(item, ex.Fact):
        return lambda v: (item.name, v)
    return lambda v: ("_zero", _operand(ex.Arith("-", ex.Const(v, ex.Kind.NUMBER), item)))


def compile_condition(node: ex.Node) -> dict[str, Any] | None:
    """Compile a normalized condition to a durable-rules expression (None: always true)."""
    if isinstance(node, ex.Const):
        return None
    if isinstance(node, ex.And | ex.Or):
        key = "$and" if isinstance(node, ex.And) else "$or"
        return {key: [c for c in (compile_condition(i) for i in node.items) if c is not None]}
    guards = [{"$ex": {f.name: 1}} for f in ex.optional_facts(node)]
    atom = _atom(node)
    return {"$and": [*guards, atom]} if guards else atom


def _pattern(stage: str, node: ex.Node) -> dict[str, Any]:
    condition = compile_condition(node)
    match = {"t": stage} if condition is None else {"$and": [{"t": stage}, condition]}
    return {"all": [{"m": match}]}


def compile_rulebook(rulebook: Rulebook) -> dict[str, dict[str, Any]]:
    """Return the durable-rules ruleset for a rulebook, without actions (for inspection)."""
    out: dict[str, dict[str, Any]] = {}
    for i, doc in enumerate(rulebook.documents):
        out[f"d{i}"] = _pattern("docs", doc.condition)
    for i, rule in enumerate(rulebook.rules):
        out[f"r{i}"] = {**_pattern("claim", rule.condition), "pri": 1000 - rule.spec.priority}
    for stage in ("docs", "claim"):
        out[f"end_{stage}"] = {"all": [{"m": {"t": stage}}], "pri": _END_PRIORITY}
    return out


def ruleset_name(rulebook: Rulebook) -> str:
    """Return a ruleset name unique to this rulebook's content."""
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{rulebook.name}_{rulebook.version}_{rulebook.sha256[:16]}")


class RulesEngine:
    """One compiled rulebook on its own durable-rules ruleset; safe to share between threads.

    The engine's C API is driven directly: assert the fact, then walk the queue of fired
    actions, reading only each action's rule name. (The Python Host's callback machinery
    costs two JSON round-trips per fired rule and starts background threads that crash
    multi-threaded use.) Evaluations on one engine are serialized by a lock: the C code holds
    the GIL, so threads add no speed, and one live session at a time keeps far below the
    engine's limit of 1,024 sessions per ruleset.
    """

    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self.name = ruleset_name(rulebook)
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        definition = compile_rulebook(rulebook)
        self._targets: dict[str, tuple[str, str]] = {
            "end_docs": ("end", ""),
            "end_claim": ("end", ""),
        }
        for i, doc in enumerate(rulebook.documents):
            self._targets[f"d{i}"] = ("document", doc.spec.code)
        for i, rule in enumerate(rulebook.rules):
            self._targets[f"r{i}"] = ("rule", rule.id)
        self._handle: int | None = durable_rules_engine.create_ruleset(
            self.name, json.dumps(definition, ensure_ascii=False)
        )

    def evaluate(self, raw: Mapping[str, Any]) -> Adjudication:
        """Check the facts, run every rule on them and return the adjudication."""
        typed = fact_io.check(self.rulebook.facts, raw)
        fired, required = self.fire(fact_io.encode(self.rulebook.facts, typed))
        return combine(self.rulebook, typed, fired, required)

    def fire(self, encoded: Mapping[str, Any]) -> tuple[list[str], list[str]]:
        """Run encoded facts through the engine; return rule ids fired and documents required."""
        fact = {k: [*v, LIST_SENTINEL] if isinstance(v, list) else v for k, v in encoded.items()}
        fact["_zero"] = 0
        with self._lock:
            if self._handle is None:
                raise EngineError(f"engine {self.name} is closed")
            sid = str(next(self._sids))
            try:
                required = self._assert({**fact, "t": "docs", "sid": sid}, "document")
                received = set(encoded.get("documents_received", ()))
                missing = [d for d in required if d not in received]
                derived = {
                    "documents_complete": not missing,
                    "missing_documents_count": len(missing),
                }
                fired = self._assert({**fact, **derived, "t": "claim", "sid": sid}, "rule")
            finally:
                durable_rules_engine.delete_state(self._handle, sid)
        return fired, required

    def _assert(self, fact: dict[str, Any], kind: str) -> list[str]:
        """Assert one fact and collect, in firing order, what the matched rules stand for."""
        code, state = durable_rules_engine.assert_fact(self._handle, json.dumps(fact, ensure_ascii=False))
        if code != 0:
            raise EngineError(f"engine {self.name} refused the fact (code {code})")
        out: dict[str, None] = {}
        ended = False
        result = durable_rules_engine.start_action_for_state(self._handle, state)
        message = result[1] if result else None
        while message:
            # A message is '{"<rule name>": {...}}'; only the name is needed.
            target_kind, value = self._targets[message[2 : message.index('"', 2)]]
            if target_kind == kind:
                out.setdefault(value, None)  # an $or rule fires once per true branch
            ended = ended or target_kind == "end"
            message = durable_rules_engine.complete_and_start_action(self._handle, state)
        if not ended:
            raise EngineError(f"engine {self.name} did not complete the evaluation")
        return list(out)

    def close(self) -> None:
        """Free the compiled ruleset's memory."""
        with self._lock:
            if self._handle is not None:
                durable_rules_engine.delete_ruleset(self._handle)
                self._handle = None

    def __enter__(self) -> RulesEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
