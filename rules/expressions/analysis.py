"""What the tree says: negation normal form, the facts a node reads, evaluation, text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rules.expressions.nodes import (
    NEGATED_OP,
    And,
    Arith,
    Compare,
    Const,
    Contains,
    DaysBetween,
    Fact,
    InList,
    Kind,
    Node,
    Not,
    Or,
    Param,
    Present,
)


def normalize(node: Node) -> Node:
    """Push negations down to the atoms and fold constants (negation normal form)."""
    return _fold(_nnf(node, negate=False))


def _nnf(node: Node, negate: bool) -> Node:
    if isinstance(node, Not):
        return _nnf(node.item, not negate)
    if isinstance(node, And | Or):
        items = tuple(_nnf(i, negate) for i in node.items)
        flip = isinstance(node, And) == negate
        return Or(items) if flip else And(items)
    if not negate:
        return node
    if isinstance(node, Compare):
        return Compare(NEGATED_OP[node.op], node.left, node.right)
    if isinstance(node, InList | Contains | Present):
        return _replace_negated(node)
    if isinstance(node, Const):
        return Const(not node.value, Kind.BOOL)
    raise AssertionError(f"cannot negate {node!r}")


def _replace_negated(node: InList | Contains | Present) -> Node:
    if isinstance(node, InList):
        return InList(node.item, node.options, not node.negated)
    if isinstance(node, Contains):
        return Contains(node.container, node.item, not node.negated)
    return Present(node.fact, not node.negated)


def _fold(node: Node) -> Node:
    if isinstance(node, And | Or):
        absorbing = isinstance(node, Or)  # True absorbs an Or, False absorbs an And
        kept: list[Node] = []
        for item in (_fold(i) for i in node.items):
            if isinstance(item, Const):
                if item.value == absorbing:
                    return Const(absorbing, Kind.BOOL)
                continue
            kept.extend(item.items if type(item) is type(node) else (item,))
        if not kept:
            return Const(not absorbing, Kind.BOOL)
        return kept[0] if len(kept) == 1 else type(node)(tuple(kept))
    if isinstance(node, Compare | InList) and not fact_names(node):
        return Const(evaluate(node, {}), Kind.BOOL)
    return node


def fact_names(node: Node) -> tuple[str, ...]:
    """Return the facts a node reads, in first-use order."""
    found: dict[str, Fact] = {}
    _collect_facts(node, found)
    return tuple(found)


def optional_facts(node: Node) -> tuple[Fact, ...]:
    """Return the optional facts an atom reads: absent ones make the atom false."""
    found: dict[str, Fact] = {}
    _collect_facts(node, found)
    return tuple(f for f in found.values() if f.optional)


def _collect_facts(node: Node, found: dict[str, Fact]) -> None:
    if isinstance(node, Fact):
        found.setdefault(node.name, node)
    elif isinstance(node, Present):
        found.setdefault(node.fact.name, node.fact)
    elif isinstance(node, Contains):
        found.setdefault(node.container.name, node.container)
    for child in _children(node):
        _collect_facts(child, found)


def _children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, Arith):
        return (node.left, node.right)
    if isinstance(node, DaysBetween):
        return (node.start, node.end)
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, InList):
        return (node.item,)
    if isinstance(node, And | Or):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    return ()


# --- reference evaluation ------------------------------------------------------------

_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


def evaluate(node: Node, facts: Mapping[str, Any]) -> bool:
    """Evaluate a normalized condition on encoded facts (dates as day numbers).

    An atom that reads an absent optional fact is false, negated or not: this is the
    engine's semantics too, so the two always agree.
    """
    if isinstance(node, And):
        return all(evaluate(i, facts) for i in node.items)
    if isinstance(node, Or):
        return any(evaluate(i, facts) for i in node.items)
    if isinstance(node, Const):
        return bool(node.value)
    if isinstance(node, Present):
        return (facts.get(node.fact.name) is None) == node.negated
    if any(facts.get(f.name) is None for f in optional_facts(node)):
        return False
    if isinstance(node, Compare):
        return _COMPARE[node.op](value_of(node.left, facts), value_of(node.right, facts))
    if isinstance(node, InList):
        return (value_of(node.item, facts) in node.options) != node.negated
    if isinstance(node, Contains):
        return (node.item in facts[node.container.name]) != node.negated
    raise AssertionError(f"not a condition: {node!r}")


def value_of(node: Node, facts: Mapping[str, Any]) -> Any:
    """Compute the value of a non-boolean node."""
    if isinstance(node, Const | Param):
        return node.value
    if isinstance(node, Fact):
        return facts[node.name]
    if isinstance(node, Arith):
        return _ARITH[node.op](value_of(node.left, facts), value_of(node.right, facts))
    if isinstance(node, DaysBetween):
        return value_of(node.end, facts) - value_of(node.start, facts)
    raise AssertionError(f"not a value: {node!r}")


def render(node: Node) -> str:
    """Write a node back as expression text (for explanations)."""
    if isinstance(node, Const):
        return repr(node.value) if node.kind is Kind.STRING else str(node.value).lower()
    if isinstance(node, Fact):
        return node.name
    if isinstance(node, Param):
        return f"params.{node.path}"
    if isinstance(node, Arith):
        return f"({render(node.left)} {node.op} {render(node.right)})"
    if isinstance(node, DaysBetween):
        return f"days_between({render(node.start)}, {render(node.end)})"
    if isinstance(node, Compare):
        return f"{render(node.left)} {node.op} {render(node.right)}"
    if isinstance(node, InList):
        return f"{render(node.item)} {'not in' if node.negated else 'in'} {list(node.options)!r}"
    if isinstance(node, Contains):
        return f"{node.item!r} {'not in' if node.negated else 'in'} {node.container.name}"
    if isinstance(node, Present):
        return f"{'missing' if node.negated else 'present'}({node.fact.name})"
    if isinstance(node, And | Or):
        joiner = " and " if isinstance(node, And) else " or "
        return "(" + joiner.join(render(i) for i in node.items) + ")"
    return f"not {render(node.item)}"
