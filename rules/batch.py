"""Evaluate a rulebook on many claims at once with numpy, from the same parsed expressions.

The engine runs one claim per durable-rules session; backtests need millions. This module
evaluates each normalized condition as array operations over whole columns, with the same
semantics (an atom on an absent optional fact is false, negated or not), and combines the
fired rules by the same definition the engine uses (`combination`, run on columns). A
differential test keeps the engine and this evaluator in agreement.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from rules import combination
from rules import expressions as ex
from rules.facts import EPOCH
from rules.rulebook import Rulebook

ROUTES = np.array(combination.ROUTES, dtype=object)
_OPS = {
    "==": np.equal,
    "!=": np.not_equal,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
}
_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}


class Members:
    """A column of lists, flattened once: which row holds which value (values as integer codes),
    so "does row i contain x" is one comparison over the flattened codes, not a Python call per row.
    A value that is not a list holds nothing.
    """

    def __init__(self, column: pd.Series) -> None:
        self.n = len(column)
        values = column.to_numpy(dtype=object)
        try:
            lists = pa.array(values, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            lists = None  # mixed: lists beside text or numbers
        if lists is not None and pa.types.is_list(lists.type) and pa.types.is_string(lists.type.value_type):
            # Only lists of text (or nulls): Arrow flattens and encodes them without a Python loop.
            self.rows = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
            encoded = pc.list_flatten(lists).dictionary_encode()
            self.codes = encoded.indices.to_numpy(zero_copy_only=False)
            self.index = {value: code for code, value in enumerate(encoded.dictionary.to_pylist())}
        else:
            self._from_objects(values)

    def _from_objects(self, values: np.ndarray) -> None:
        sizes = np.fromiter(
            (len(v) if isinstance(v, list | tuple | set | frozenset | np.ndarray) else 0 for v in values),
            dtype=np.int64,
            count=self.n,
        )
        self.rows = np.repeat(np.arange(self.n), sizes)
        flat = [item for v, size in zip(values, sizes, strict=True) if size for item in v]
        codes, uniques = pd.factorize(pd.Series(flat, dtype=object)) if flat else (np.zeros(0, int), [])
        self.codes = codes
        self.index = {value: code for code, value in enumerate(uniques)}

    @classmethod
    def empty(cls, n: int) -> Members:
        """A column of n empty lists."""
        return cls(pd.Series([None] * n, dtype=object))

    def contains(self, item: Any) -> np.ndarray:
        """Whether each row's list holds the item."""
        out = np.zeros(self.n, dtype=bool)
        code = self.index.get(item)
        if code is not None:
            out[self.rows[self.codes == code]] = True
        return out


class Prepared:
    """A table's fact columns as the evaluator reads them, each encoded once for its type: two
    versions backtested on one table share them (a fact both declare alike is read once)."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data
        self._done: dict[tuple[str, str], tuple[Any, np.ndarray]] = {}

    def column(self, name: str, kind: str) -> tuple[Any, np.ndarray]:
        """Return the fact's encoded values (a Members for lists) and where it is present."""
        key = (name, kind)
        if key not in self._done:
            self._done[key] = _encode(self.data, name, kind)
        return self._done[key]


def _by_value(column: pd.Series, convert: Callable[[pd.Series], np.ndarray], missing: Any) -> np.ndarray:
    """Convert each distinct value once and spread the results back over the rows.

    A history repeats its values (products, perils, dates, amounts): converting the distinct
    ones is the same element by element and costs a fraction of converting every row.
    """
    try:
        codes, uniques = pd.factorize(column, use_na_sentinel=True)
    except TypeError:  # unhashable values (a list where text was declared): row by row
        return np.asarray(convert(column))
    converted = np.asarray(convert(pd.Series(uniques)))
    return np.append(converted, np.array([missing], dtype=converted.dtype))[codes]


def _days(values: pd.Series) -> np.ndarray:
    stamps = pd.to_datetime(values, errors="coerce")
    days = (stamps.to_numpy(dtype="datetime64[D]") - np.datetime64(EPOCH, "D")).astype(float)
    days[stamps.isna().to_numpy()] = np.nan  # not a day: no number (NaT would cast to -9.2e18)
    return days


def _numbers(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _objects(values: pd.Series) -> np.ndarray:
    return values.astype(object).to_numpy()


def _encode(data: pd.DataFrame, name: str, kind: str) -> tuple[Any, np.ndarray]:
    n = len(data)
    column = data[name] if name in data.columns else pd.Series([None] * n, index=data.index)
    present = column.notna().to_numpy()
    if kind == "list":
        return Members(column), present
    if kind == "date":
        days = _by_value(column, _days, np.nan)
        days[~present] = np.nan
        return days, present
    if kind in ("int", "number", "money"):
        if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            return column.to_numpy(dtype=float, na_value=np.nan), present
        return _by_value(column, _numbers, np.nan), present
    if kind == "bool":
        return column.to_numpy(dtype=object), present
    absent = np.flatnonzero(~present)
    missing = column.astype(object).iloc[absent[0]] if len(absent) else None  # as the column spells it
    return _by_value(column, _objects, missing), present


class Columns:
    """Encoded fact columns: numbers as float arrays (dates as day numbers), text as objects."""

    def __init__(self, rulebook: Rulebook, data: pd.DataFrame | Prepared) -> None:
        prepared = data if isinstance(data, Prepared) else Prepared(data)
        self.n = len(prepared.data)
        self.values: dict[str, np.ndarray] = {}
        self.present: dict[str, np.ndarray] = {}
        self.lists: dict[str, Members] = {}
        for name, spec in rulebook.facts.items():
            values, self.present[name] = prepared.column(name, spec.type)
            if spec.type == "list":
                self.lists[name] = values
            else:
                self.values[name] = values

    def set(self, name: str, values: np.ndarray) -> None:
        """Add a derived fact (always present)."""
        self.values[name] = values
        self.present[name] = np.ones(self.n, dtype=bool)


def _value(node: ex.Node, cols: Columns) -> Any:
    if isinstance(node, ex.Const | ex.Param):
        return node.value
    if isinstance(node, ex.Fact):
        return cols.values[node.name]
    if isinstance(node, ex.Arith):
        with np.errstate(divide="ignore", invalid="ignore"):
            return _ARITH[node.op](_value(node.left, cols), _value(node.right, cols))
    if isinstance(node, ex.DaysBetween):
        return np.subtract(_value(node.end, cols), _value(node.start, cols))
    raise AssertionError(f"not a value: {node!r}")


def condition(node: ex.Node, cols: Columns) -> np.ndarray:
    """Evaluate a normalized condition over all claims at once."""
    n = cols.n
    if isinstance(node, ex.Const):
        return np.full(n, bool(node.value))
    if isinstance(node, ex.And):
        out = np.ones(n, dtype=bool)
        for item in node.items:
            out &= condition(item, cols)
        return out
    if isinstance(node, ex.Or):
        out = np.zeros(n, dtype=bool)
        for item in node.items:
            out |= condition(item, cols)
        return out
    if isinstance(node, ex.Present):
        present = cols.present[node.fact.name]
        return ~present if node.negated else present.copy()
    guard = np.ones(n, dtype=bool)
    for fact in ex.optional_facts(node):
        guard &= cols.present[fact.name]
    if isinstance(node, ex.Compare):
        with np.errstate(invalid="ignore"):
            result = _OPS[node.op](_value(node.left, cols), _value(node.right, cols))
        return guard & np.asarray(result, dtype=bool)
    if isinstance(node, ex.InList):
        values = _value(node.item, cols)
        hit = (
            pd.Series(values).isin(list(node.options)).to_numpy()
            if isinstance(values, np.ndarray)
            else np.full(n, values in node.options)
        )
        return guard & (~hit if node.negated else hit)
    if isinstance(node, ex.Contains):
        hit = cols.lists[node.container.name].contains(node.item)
        return guard & (~hit if node.negated else hit)
    raise AssertionError(f"not a condition: {node!r}")


def _cents(values: Any) -> np.ndarray:
    return np.rint(np.asarray(values, dtype=float) * 100).astype(np.int64)


@dataclass
class BatchResult:
    """Adjudications of many claims, as columns."""

    rulebook: Rulebook
    fired: np.ndarray  # bool, claims x rules (declaration order)
    required: np.ndarray  # bool, claims x documents
    missing: np.ndarray  # bool, claims x documents
    coverage: np.ndarray
    route: np.ndarray
    payable_cents: np.ndarray
    investigate: np.ndarray
    review: np.ndarray
    flags: dict[str, np.ndarray]  # system reasons: below_deductible, cap, no_coverage, default_route

    @property
    def payable(self) -> np.ndarray:
        """Return payable amounts as floats (exact cents / 100)."""
        return self.payable_cents / 100

    def frame(self) -> pd.DataFrame:
        """Return coverage, route, payable amount and flags as a table."""
        return pd.DataFrame(
            {
                "coverage": self.coverage,
                "route": self.route,
                "payable_amount": self.payable,
                "investigate": self.investigate,
                "review": self.review,
            }
        )

    def reason_codes(self, i: int) -> tuple[str, ...]:
        """Return claim i's reason codes in the engine's order."""
        rules = self.rulebook.rules
        order = sorted(range(len(rules)), key=lambda r: -rules[r].spec.priority)
        codes = [rules[r].spec.code for r in order if self.fired[i, r]]
        if self.coverage[i] != "not_covered":
            codes += ["DOCUMENT_MISSING"] * int(self.missing[i].sum())
            if self.flags["below_deductible"][i]:
                codes.append("BELOW_DEDUCTIBLE")
            elif self.flags["cap"][i]:
                codes.append("SUM_INSURED_CAP")
        if self.flags["no_coverage"][i]:
            codes.append("NO_COVERAGE_DECISION")
        if self.flags["default_route"][i]:
            codes.append("DEFAULT_ROUTE")
        return tuple(codes)


def evaluate(rulebook: Rulebook, data: pd.DataFrame | Prepared) -> BatchResult:
    """Adjudicate every row of a table of raw claim facts (one column per fact), or of a
    `Prepared` table another evaluation has already read."""
    cols = Columns(rulebook, data)
    n = cols.n
    docs = rulebook.documents
    required = (
        np.column_stack([condition(d.condition, cols) for d in docs]) if docs else np.zeros((n, 0), bool)
    )
    received = cols.lists.get("documents_received") or Members.empty(n)
    have = np.column_stack([received.contains(d.spec.code) for d in docs]) if docs else np.zeros((n, 0), bool)
    missing = required & ~have
    cols.set("documents_complete", ~missing.any(axis=1))
    cols.set("missing_documents_count", missing.sum(axis=1).astype(float))
    rules = rulebook.rules
    fired = np.column_stack([condition(r.condition, cols) for r in rules])

    done = combination.columns(
        rulebook,
        fired,
        missing.any(axis=1),
        _cents(cols.values["claimed_amount"]),
        _cents(cols.values["deductible"]),
        _cents(cols.values["sum_insured_remaining"]),
    )
    return BatchResult(
        rulebook=rulebook,
        fired=fired,
        required=required,
        missing=missing,
        coverage=np.asarray(done.coverage).astype(object),
        route=ROUTES[done.severity],
        payable_cents=done.payable_cents,
        investigate=done.investigate,
        review=done.review,
        flags={
            "below_deductible": done.below_deductible,
            "cap": done.capped,
            "no_coverage": done.undetermined,
            "default_route": done.default_route,
        },
    )
