"""Check a claim's input facts against a rulebook's declarations and encode them for evaluation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from rules.schema import FactSpec

EPOCH = dt.date(1970, 1, 1)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class FactProblem:
    """One field of the input that cannot be accepted."""

    field: str
    message: str


class InvalidFacts(ValueError):
    """Input facts that do not match the rulebook; names every field at fault."""

    def __init__(self, problems: list[FactProblem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def day_number(value: dt.date) -> int:
    """Return a date as whole days since 1970-01-01 (the engine has no date type)."""
    return (value - EPOCH).days


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError("expected a date without a time")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)") from None
    raise ValueError("expected a date (YYYY-MM-DD)")


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("expected an amount")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError("expected a finite amount")
    if amount != amount.quantize(CENT):
        raise ValueError("an amount has at most two decimals")
    return amount.quantize(CENT)


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("expected a whole number")
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError("expected a number")
    return float(value)


def _bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("expected true or false")
    return value


def _string(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected text")
    return value


def _list(value: Any) -> list[str]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError("expected a list of text values")
    return list(value)


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "date": _date,
    "money": _money,
    "int": _int,
    "number": _number,
    "bool": _bool,
    "string": _string,
    "list": _list,
}


def _check_one(spec: FactSpec, value: Any) -> Any:
    typed = _PARSERS[spec.type](value)
    if spec.allowed is not None:
        items = typed if spec.type == "list" else [typed]
        bad = [v for v in items if v not in spec.allowed]
        if bad:
            raise ValueError(f"{bad[0]!r} is not one of {list(spec.allowed)}")
    if spec.min is not None and spec.type in ("int", "number", "money") and typed < spec.min:
        raise ValueError(f"must be at least {spec.min:g}")
    if spec.max is not None and spec.type in ("int", "number", "money") and typed > spec.max:
        raise ValueError(f"must be at most {spec.max:g}")
    return typed


def check(specs: Mapping[str, FactSpec], raw: Mapping[str, Any]) -> dict[str, Any]:
    """Return the facts as typed values, or raise InvalidFacts naming every bad field."""
    found: list[FactProblem] = []
    typed: dict[str, Any] = {}
    for name in raw:
        if name not in specs:
            found.append(FactProblem(name, "not a fact this rulebook declares"))
    for name, spec in specs.items():
        value = raw.get(name)
        if value is None:
            if spec.required:
                found.append(FactProblem(name, "required fact is missing"))
            continue
        try:
            typed[name] = _check_one(spec, value)
        except ValueError as exc:
            found.append(FactProblem(name, str(exc)))
    if found:
        raise InvalidFacts(found)
    return typed


def encode(specs: Mapping[str, FactSpec], typed: Mapping[str, Any]) -> dict[str, Any]:
    """Encode typed facts as plain numbers, text, flags and lists; absent facts stay absent."""
    out: dict[str, Any] = {}
    for name, value in typed.items():
        kind = specs[name].type
        if kind == "date":
            out[name] = day_number(value)
        elif kind in ("money", "number"):
            out[name] = float(value)
        else:
            out[name] = value
    return out


def jsonable(typed: Mapping[str, Any]) -> dict[str, Any]:
    """Return typed facts as JSON-ready values (dates ISO, amounts as strings)."""
    out: dict[str, Any] = {}
    for name, value in typed.items():
        if isinstance(value, dt.date):
            out[name] = value.isoformat()
        elif isinstance(value, Decimal):
            out[name] = str(value)
        else:
            out[name] = value
    return out
