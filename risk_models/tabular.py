"""The generic mode: features for any exported claims table, with leaky id columns dropped.

Each column gets a role from its content, not its name alone: numeric, categorical, date
(used only as differences between dates, never as a raw calendar value) or dropped, with
the reason. Id-like columns (row ids, policy numbers, postcodes, street addresses) are
dropped because combined with calendar fields they act as a label proxy.
"""

from __future__ import annotations

import calendar
import csv
import re
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

from risk_models.features import Role, TableColumns

MISSING_MARKERS = ["", "?", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "#N/A", "-"]
POSITIVE = {"y", "yes", "true", "t", "1", "fraud", "fraudulent", "confirmed_fraud"}
NEGATIVE = {"n", "no", "false", "f", "0", "legit", "genuine", "cleared", "not_fraud"}
# Words that make a column name look like an identifier, found as words of the name in any
# spelling: policy_number, PolicyNumber, RepNumber, ClaimID, CustomerId, customer_id, zip.
ID_WORDS = frozenset(
    {"id", "ids", "no", "num", "number", "nr", "zip", "zipcode", "postcode", "postal", "location"}
    | {"address", "street", "name", "phone", "email", "uuid", "key", "vin", "plate"}
)
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
MONTHS = frozenset(m.lower() for m in (*calendar.month_name[1:], *calendar.month_abbr[1:]))
_TIME_HINT = re.compile(r"incident|loss|accident|claim|report|event", re.IGNORECASE)
MAX_LEVELS = 200


def words(name: str) -> list[str]:
    """Split a column name into lower-case words, whatever its spelling (camelCase, snake_case)."""
    return [w.lower() for w in _WORDS.findall(name)]


def id_like_name(name: str) -> bool:
    """Whether a column's name ends in a word saying it identifies something (PolicyNumber,
    RepNumber, ClaimID, customer_id, insured_zip; not number_of_vehicles)."""
    found = words(name)
    return bool(found) and found[-1] in ID_WORDS


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV (its delimiter sniffed: comma, semicolon, tab or bar) or Parquet file; common
    missing markers become NaN, "None" stays text. A file that cannot be read is a ValueError."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"no file {path}")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as head:
        sample = head.read(64_000)
    try:
        separator = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        separator = ","
    try:
        return pd.read_csv(
            path,
            sep=separator,
            keep_default_na=False,
            na_values=MISSING_MARKERS,
            low_memory=False,
            encoding="utf-8-sig",
        )
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise ValueError(f"cannot read {path} as a table: {str(exc).splitlines()[0]}") from None


def label_vector(values: pd.Series) -> np.ndarray:
    """Turn a label column (Y/N, yes/no, true/false, 1/0, ...) into 1 for fraud, 0 otherwise."""
    if values.isna().any():
        raise ValueError(f"label column {values.name!r} has {int(values.isna().sum())} empty values")
    text = values.astype(str).str.strip().str.lower()
    levels = set(text.unique())
    if len(levels) != 2:
        shown = sorted(levels)[:6]
        more = f" and {len(levels) - 6} more" if len(levels) > 6 else ""
        raise ValueError(
            f"label column {values.name!r} must have two values (fraud or not), found {len(levels)}: "
            f"{shown}{more}"
        )
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
    if id_like_name(name) and (whole or (not numeric and ratio >= 0.2)):
        # A number that names something (an agent, a policy) has no order worth learning.
        return Role(name, "dropped", f"id-like name with {unique} distinct values in {len(present)} rows")
    if (not numeric or whole) and ratio >= 0.3 and n >= 20 and _repeats_a_few_times(values, numeric):
        return Role(
            name,
            "dropped",
            f"id-like: {unique} distinct values in {len(present)} rows, each on a few rows only",
        )
    if numeric:
        return Role(name, "numeric", "numeric")
    if ratio > 0.5 or unique > MAX_LEVELS:
        return Role(name, "dropped", f"free text: {unique} distinct values")
    return Role(name, "categorical", f"categorical: {unique} levels")


def _repeats_a_few_times(values: pd.Series, numeric: bool) -> bool:
    """Values shared by a few rows each (a policy or customer number behind two or three claims);
    numbers also run with the rows' order, as numbers handed out in turn do (amounts or
    durations, as many-valued, do not)."""
    present = values.dropna()
    if present.value_counts().median() > 4:
        return False
    if not numeric:
        return True
    position = pd.Series(np.arange(len(values)), index=values.index)[present.index]
    return abs(present.astype(float).corr(position.astype(float), method="spearman")) >= 0.9


def times(values: pd.Series) -> pd.Series:
    """Read a time column as moments: dates, whole years (1900-2100), or epoch seconds; refuse
    month names or anything else that does not order claims in time (ValueError saying why)."""
    name = values.name
    present = values.dropna()
    if present.empty:
        raise ValueError(f"time column {name!r} is empty")
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        number = values.astype(float)
        whole = np.allclose(present.astype(float) % 1, 0)
        if whole and present.between(1900, 2100).all():
            return pd.to_datetime(number.map(lambda y: None if np.isnan(y) else f"{int(y)}-01-01"))
        if present.between(1e8, 4e9).all():  # seconds since 1970: 1973 to 2096
            return pd.to_datetime(number, unit="s", errors="coerce")
        raise ValueError(
            f"time column {name!r} holds numbers that are neither years (1900-2100) nor epoch seconds"
        )
    text = present.astype(str).str.strip().str.lower()
    if text.isin(MONTHS).mean() >= 0.95:
        raise ValueError(
            f"time column {name!r} holds month names, which do not order claims across years: "
            "give a column with the year or a date (--time-column)"
        )
    when = pd.to_datetime(values, errors="coerce", format="mixed")
    if when.notna().sum() < 0.9 * len(present):
        raise ValueError(f"time column {name!r} does not hold dates: {present.iloc[0]!r}, ...")
    return when


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

    def assign(self, data: pd.DataFrame, drop: Iterable[str] = (), keep: Iterable[str] = ()) -> TableFeatures:
        """Decide every column's role (call before splitting, so roles see the whole table).

        `drop` leaves columns out; `keep` keeps columns the rules would drop (id-like by
        mistake, say) as numbers or categories. An unknown name is a ValueError.
        """
        drop, keep = set(drop), set(keep)
        unknown = sorted((drop | keep) - set(data.columns))
        if unknown:
            shown = ", ".join(map(str, data.columns[:12]))
            raise ValueError(f"no column {unknown[0]!r} in the table (columns: {shown}, ...)")
        if self.label in drop | keep:
            raise ValueError(f"{self.label!r} is the label: it cannot be dropped or kept as a feature")
        n = len(data)
        self.roles = []
        for column in data.columns:
            if column == self.label:
                role = Role(column, "label", "label")
            elif column in drop:
                role = Role(column, "dropped", "dropped as asked (--drop)")
            else:
                role = _role(data[column], n)
                if column in keep and role.role == "dropped":
                    numeric = pd.api.types.is_numeric_dtype(data[column])
                    role = Role(
                        column,
                        "numeric" if numeric else "categorical",
                        f"kept as asked (--keep); {role.reason}",
                    )
            self.roles.append(role)
        return self._derive(data)

    def set_aside(self, data: pd.DataFrame, column: str, reason: str) -> TableFeatures:
        """Drop one more column from the features (the time column, which splits the table)."""
        self.roles = [Role(r.column, "dropped", reason) if r.column == column else r for r in self.roles]
        return self._derive(data)

    def _derive(self, data: pd.DataFrame) -> TableFeatures:
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
