"""Parse and type-check `when:` text into the node tree, without eval.

Python's own parser reads the text (so precedence and positions are exact); only a
whitelisted subset of its syntax tree is accepted and turned into nodes.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from rules.expressions.nodes import (
    And,
    Arith,
    Compare,
    Const,
    Contains,
    DaysBetween,
    ExpressionError,
    Fact,
    FactType,
    InList,
    Kind,
    Node,
    Not,
    Or,
    Param,
    Present,
    kind_of_value,
)

_CMP_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_ARITH_OPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_LITERAL_NAMES = {"true": True, "false": False, "True": True, "False": False}


class _Parser:
    def __init__(self, facts: Mapping[str, FactType], params: Mapping[str, Any]) -> None:
        self.facts = facts
        self.params = params

    def fail(self, node: ast.AST, message: str) -> ExpressionError:
        return ExpressionError(message, getattr(node, "col_offset", 0) + 1)

    def boolean(self, node: ast.AST) -> Node:
        """Parse a node that must be a condition."""
        out = self.value(node)
        if out.kind is not Kind.BOOL:
            raise self.fail(node, f"expected a condition, got a {out.kind} value")
        if isinstance(out, Fact):
            return Compare("==", out, Const(True, Kind.BOOL))
        return out

    def value(self, node: ast.AST) -> Node:
        if isinstance(node, ast.BoolOp):
            items = tuple(self.boolean(v) for v in node.values)
            return And(items) if isinstance(node.op, ast.And) else Or(items)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return Not(self.boolean(node.operand))
            if isinstance(node.op, ast.USub):
                inner = self.number(node.operand)
                return Arith("-", Const(0, Kind.NUMBER), inner)
            raise self.fail(node, "unsupported operator")
        if isinstance(node, ast.BinOp):
            op = _ARITH_OPS.get(type(node.op))
            if op is None:
                raise self.fail(node, "unsupported operator (use + - * /)")
            return Arith(op, self.number(node.left), self.number(node.right))
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Attribute):
            return self.param(node)
        if isinstance(node, ast.Constant):
            kind = kind_of_value(node.value)
            if kind is None or kind is Kind.LIST:
                raise self.fail(node, f"unsupported literal {node.value!r}")
            return Const(node.value, kind)
        if isinstance(node, ast.List | ast.Tuple):
            raise self.fail(node, "a list is only allowed on the right of 'in'")
        raise self.fail(node, "unsupported syntax")

    def number(self, node: ast.AST) -> Node:
        out = self.value(node)
        if out.kind is not Kind.NUMBER:
            raise self.fail(node, f"arithmetic needs numbers, got a {out.kind} value")
        return out

    def name(self, node: ast.Name) -> Node:
        if node.id in _LITERAL_NAMES:
            return Const(_LITERAL_NAMES[node.id], Kind.BOOL)
        if node.id == "params":
            raise self.fail(node, "name a parameter, e.g. params.simple_max_amount")
        spec = self.facts.get(node.id)
        if spec is None:
            raise self.fail(node, f"unknown fact '{node.id}'")
        return Fact(node.id, spec.kind, spec.optional)

    def param(self, node: ast.Attribute) -> Node:
        parts: list[str] = []
        cur: ast.AST = node
        while isinstance(cur, ast.Attribute):
            parts.append(cur.attr)
            cur = cur.value
        if not (isinstance(cur, ast.Name) and cur.id == "params"):
            raise self.fail(node, "only params.<name> may use a dot")
        path = ".".join(reversed(parts))
        value: Any = self.params
        for part in reversed(parts):
            if not isinstance(value, Mapping) or part not in value:
                raise self.fail(node, f"unknown param 'params.{path}'")
            value = value[part]
        kind = kind_of_value(value)
        if kind is None:
            raise self.fail(node, f"param 'params.{path}' is not a number, string, flag or list")
        return Param(path, value, kind)

    def call(self, node: ast.Call) -> Node:
        fname = node.func.id if isinstance(node.func, ast.Name) else None
        if node.keywords:
            raise self.fail(node, "keyword arguments are not supported")
        if fname == "days_between":
            if len(node.args) != 2:
                raise self.fail(node, "days_between(start, end) takes two dates")
            start, end = (self.value(a) for a in node.args)
            for arg, parsed in zip(node.args, (start, end), strict=True):
                if parsed.kind is not Kind.DATE:
                    raise self.fail(arg, f"days_between needs dates, got a {parsed.kind} value")
            return DaysBetween(start, end)
        if fname in ("present", "missing"):
            if len(node.args) != 1 or not isinstance(node.args[0], ast.Name):
                raise self.fail(node, f"{fname}(fact) takes one fact name")
            fact = self.name(node.args[0])
            if not isinstance(fact, Fact):
                raise self.fail(node.args[0], f"{fname}() needs a fact")
            if not fact.optional:
                raise self.fail(node.args[0], f"fact '{fact.name}' is required, so always present")
            return Present(fact, negated=fname == "missing")
        raise self.fail(node, f"unknown function '{fname}' (use days_between, present, missing)")

    def compare(self, node: ast.Compare) -> Node:
        parts: list[Node] = []
        left_node = node.left
        for op_node, right_node in zip(node.ops, node.comparators, strict=True):
            parts.append(self.one_compare(left_node, op_node, right_node))
            left_node = right_node
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def one_compare(self, left_node: ast.AST, op_node: ast.cmpop, right_node: ast.AST) -> Node:
        if isinstance(op_node, ast.In | ast.NotIn):
            return self.membership(left_node, right_node, isinstance(op_node, ast.NotIn))
        op = _CMP_OPS.get(type(op_node))
        if op is None:
            raise self.fail(right_node, "unsupported comparison (use == != < <= > >= in)")
        left, right = self.value(left_node), self.value(right_node)
        if left.kind is not right.kind:
            raise self.fail(left_node, f"cannot compare a {left.kind} with a {right.kind}")
        if left.kind is Kind.LIST:
            raise self.fail(left_node, "lists can only be tested with 'in'")
        if op not in ("==", "!=") and left.kind not in (Kind.NUMBER, Kind.DATE):
            raise self.fail(left_node, f"'{op}' needs numbers or dates, got {left.kind} values")
        self.check_allowed(left, right, right_node)
        self.check_allowed(right, left, left_node)
        return Compare(op, left, right)

    def check_allowed(self, fact: Node, other: Node, where: ast.AST) -> None:
        """Refuse a literal that can never equal the fact (e.g. a misspelt peril)."""
        if not isinstance(fact, Fact) or not isinstance(other, Const | Param):
            return
        allowed = self.facts[fact.name].allowed
        if allowed is not None and other.value not in allowed:
            raise self.fail(where, f"{other.value!r} is not an allowed value of '{fact.name}'")

    def membership(self, left_node: ast.AST, right_node: ast.AST, negated: bool) -> Node:
        left = self.value(left_node)
        if isinstance(right_node, ast.List | ast.Tuple):
            options = tuple(self.literal(e) for e in right_node.elts)
        else:
            right = self.value(right_node)
            if isinstance(right, Fact) and right.kind is Kind.LIST:
                if not isinstance(left, Const | Param) or left.kind is not Kind.STRING:
                    raise self.fail(left_node, f"test a text value against list '{right.name}'")
                allowed = self.facts[right.name].allowed
                if allowed is not None and left.value not in allowed:
                    raise self.fail(left_node, f"{left.value!r} can never be in '{right.name}'")
                return Contains(right, left.value, negated)
            if not isinstance(right, Param) or right.kind is not Kind.LIST:
                raise self.fail(right_node, "'in' needs a list, a list param or a list fact")
            options = tuple(right.value)
        if not options:
            raise self.fail(right_node, "'in' needs a non-empty list")
        for value in options:
            if kind_of_value(value) is not left.kind:
                raise self.fail(right_node, f"{value!r} is not a {left.kind} like the left side")
            if isinstance(left, Fact):
                self.check_allowed(left, Const(value, left.kind), right_node)
        return InList(left, options, negated)

    def literal(self, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and kind_of_value(node.value) not in (None, Kind.LIST):
            return node.value
        if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
            return _LITERAL_NAMES[node.id]
        raise self.fail(node, "list items must be literals")


def parse(text: str, facts: Mapping[str, FactType], params: Mapping[str, Any]) -> Node:
    """Parse and type-check one condition; raise ExpressionError with its column."""
    source = text.strip()
    if not source:
        raise ExpressionError("empty expression")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"syntax error: {exc.msg}", exc.offset or 1) from None
    return _Parser(facts, params).boolean(tree.body)
