"""The generic mode: features for any exported claims table, with leaky id columns dropped.

Each column gets a role from its content, not its name alone: numeric, categorical, date
(used only as differences between dates, never as a raw calendar value) or dropped, with
the reason. Id-like columns (row ids, policy numbers, postcodes, street addresses) are
dropped because combined with calendar fields they act as a label proxy.
"""

from __future__ import annotations

import re
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from risk_models.features import Role, TableColumns

MISSING_MARKERS = ["", "?", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "#N/A", "-"]
POSITIVE = {"y", "yes", "true", "t", "1", "fraud", "fraudulent", "confirmed_fraud"}
NEGATIVE = {"n", "no", "false", "f", "0", "legit", "genuine", "cleared", "not_fraud"}
_ID_HINT = re.compile(
    r"(^|[_\s-])(id|ids|no|num|number|zip|zipcode|postcode|postal|location|address|street|"
    r"name|phone|email|uuid|key|vin|plate)($|[_\s-])",
    re.IGNORECASE,
)
_TIME_HINT = re.compile(r"incident|loss|accident|claim|report|event", re.IGNORECASE)
MAX_LEVELS = 200


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file; common missing markers become NaN, "None" stays text."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, keep_default_na=False, na_values=MISSING_MARKERS, low_memory=False)


def label_vector(values: pd.Series) -> np.ndarray:
    """Turn a label column (Y/N, yes/no, true/false, 1/0, ...) into 1 for fraud, 0 otherwise."""
    if values.isna().any():
        raise ValueError(f"label column {values.name!r} has {int(values.isna().sum())} empty values")
    text = values.astype(str).str.strip().str.lower()
    levels = set(text.unique())
    if len(levels) != 2:
        raise ValueError(f"label column {values.name!r} must have two values, found {sorted(levels)}")
    positive = levels & POSITIVE
    if len(positive) != 1 or not (levels - positive) <= NEGATIVE | levels - POSITIVE:
        raise ValueError(f"cannot tell which of {sorted(levels)} in {values.name!r} means fraud")
    return (text == positive.pop()).to_numpy(dtype=int)


def _is_dates(values: pd.Series) -> bool:
    if values.dtype.kind == "M":
        return True
    if values.dtype != object and not pd.api.types.is_string_dtype(values):
        return False
    sample = values.dropna().astype(str).head(500)
    if sample.empty or not sample.str.contains(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}").all():
        return False
    parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.95)


def _role(values: pd.Series, n: int) -> Role:
    name = str(values.name)
    present = values.dropna()
    if present.empty:
        return Role(name, "dropped", "empty")
    unique = present.nunique()
    ratio = unique / max(len(present), 1)
    if unique == 1:
        return Role(name, "dropped", "constant")
    if _is_dates(values):
        return Role(name, "date", "date: used as days between dates, not as a calendar value")
    numeric = pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
    whole = numeric and np.allclose(present.astype(float) % 1, 0)
    if (not numeric or whole) and ratio >= 0.95 and n >= 20:
        return Role(name, "dropped", f"id-like: {unique} distinct values in {len(present)} rows")
    if _ID_HINT.search(name) and (not numeric or whole) and ratio >= 0.5:
        return Role(name, "dropped", f"id-like name with {unique} distinct values")
    if numeric:
        return Role(name, "numeric", "numeric")
    if ratio > 0.5 or unique > MAX_LEVELS:
        return Role(name, "dropped", f"free text: {unique} distinct values")
    return Role(name, "categorical", f"categorical: {unique} levels")


def pick_time_column(data: pd.DataFrame, roles: list[Role]) -> str | None:
    """Pick the date that orders claims in time (incident/loss/claim/report first)."""
    dates = [r.column for r in roles if r.role == "date"]
    hinted = [c for c in dates if _TIME_HINT.search(c)]
    candidates = hinted or dates
    if not candidates:
        return None
    latest = {c: pd.to_datetime(data[c], errors="coerce", format="mixed").median() for c in candidates}
    return max(candidates, key=lambda c: (latest[c], c))


class TableFeatures(TableColumns):
    """Features of an arbitrary claims table, roles learned from the fitting data."""

    def assign(self, data: pd.DataFrame) -> TableFeatures:
        """Decide every column's role (call before splitting, so roles see the whole table)."""
        n = len(data)
        self.roles = [
            Role(c, "label", "label") if c == self.label else _role(data[c], n) for c in data.columns
        ]
        by = {r.column: r.role for r in self.roles}
        self.dates = tuple(sorted(c for c, r in by.items() if r == "date"))
        diffs = tuple(f"days_{a}_to_{b}" for a, b in combinations(self.dates, 2))
        self.numeric = tuple(c for c, r in by.items() if r == "numeric") + diffs
        self.categorical = tuple(c for c, r in by.items() if r == "categorical")
        self.inputs = tuple(c for c, r in by.items() if r in ("numeric", "categorical", "date"))
        self.required = frozenset(c for c in self.inputs if data[c].notna().all())
        if not self.numeric and not self.categorical:
            raise ValueError("no usable feature columns left after dropping id-like columns")
        return self
