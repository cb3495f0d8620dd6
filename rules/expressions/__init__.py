"""`when:` expressions: parsed and type-checked into a small typed tree, without eval.

`nodes` is the tree, `parser` turns text into it, `analysis` normalizes, inspects,
evaluates and renders it; every name is re-exported here.
"""

from rules.expressions.analysis import evaluate, fact_names, normalize, optional_facts, render, value_of
from rules.expressions.nodes import (
    FLIPPED_OP,
    NEGATED_OP,
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
from rules.expressions.parser import parse

__all__ = [
    "FLIPPED_OP",
    "NEGATED_OP",
    "And",
    "Arith",
    "Compare",
    "Const",
    "Contains",
    "DaysBetween",
    "ExpressionError",
    "Fact",
    "FactType",
    "InList",
    "Kind",
    "Node",
    "Not",
    "Or",
    "Param",
    "Present",
    "evaluate",
    "fact_names",
    "kind_of_value",
    "normalize",
    "optional_facts",
    "parse",
    "render",
    "value_of",
]
