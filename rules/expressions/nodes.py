"""The typed tree a `when:` expression becomes: value kinds, fact types and nodes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """The value kinds an expression can have."""

    NUMBER = "number"
    BOOL = "bool"
    STRING = "string"
    DATE = "date"
    LIST = "list"


@dataclass(frozen=True)
class FactType:
    """What an expression needs to know about a declared fact."""

    kind: Kind
    optional: bool = False
    allowed: tuple[Any, ...] | None = None


class ExpressionError(ValueError):
    """A `when:` expression that cannot be accepted, with its 1-based column."""

    def __init__(self, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Const:
    """A literal value."""

    value: Any
    kind: Kind


@dataclass(frozen=True)
class Fact:
    """A reference to a declared input fact."""

    name: str
    kind: Kind
    optional: bool


@dataclass(frozen=True)
class Param:
    """A rulebook parameter, resolved to its value at load time."""

    path: str
    value: Any
    kind: Kind


@dataclass(frozen=True)
class Arith:
    """Arithmetic on two numbers."""

    op: str  # + - * /
    left: Node
    right: Node
    kind: Kind = Kind.NUMBER


@dataclass(frozen=True)
class DaysBetween:
    """Whole days from one date to another."""

    start: Node
    end: Node
    kind: Kind = Kind.NUMBER


@dataclass(frozen=True)
class Compare:
    """A comparison of two values."""

    op: str  # == != < <= > >=
    left: Node
    right: Node
    kind: Kind = Kind.BOOL


@dataclass(frozen=True)
class InList:
    """Membership of a value in a literal list."""

    item: Node
    options: tuple[Any, ...]
    negated: bool = False
    kind: Kind = Kind.BOOL


@dataclass(frozen=True)
class Contains:
    """Membership of a literal in a list fact."""

    container: Fact
    item: Any
    negated: bool = False
    kind: Kind = Kind.BOOL


@dataclass(frozen=True)
class Present:
    """Whether an optional fact was given."""

    fact: Fact
    negated: bool = False
    kind: Kind = Kind.BOOL


@dataclass(frozen=True)
class And:
    """All conditions hold."""

    items: tuple[Node, ...]
    kind: Kind = Kind.BOOL


@dataclass(frozen=True)
class Or:
    """At least one condition holds."""

    items: tuple[Node, ...]
    kind: Kind = Kind.BOOL


@dataclass(frozen=True)
class Not:
    """The condition does not hold."""

    item: Node
    kind: Kind = Kind.BOOL


Node = Const | Fact | Param | Arith | DaysBetween | Compare | InList | Contains | Present | And | Or | Not

NEGATED_OP = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", ">": "<=", "<=": ">"}
FLIPPED_OP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}


def kind_of_value(value: Any) -> Kind | None:
    """Return the expression kind of a plain Python value (params and literals)."""
    if isinstance(value, bool):
        return Kind.BOOL
    if isinstance(value, int | float):
        return Kind.NUMBER
    if isinstance(value, str):
        return Kind.STRING
    if isinstance(value, list | tuple):
        return Kind.LIST
    return None
