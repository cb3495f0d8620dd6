"""Features for the fraud-risk model, computed by one code path for batch and online scoring.

A feature set reads its inputs through a `Source`: a DataFrame (batch, whole columns) or one
claim's mapping (online, one-element arrays, strictly checked). The same numpy code then
derives the features from either, so training and scoring cannot drift apart.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

EPOCH = np.datetime64("1970-01-01", "D")


class FeatureError(ValueError):
    """A claim whose input cannot be turned into features; names the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Source(Protocol):
    """Where a feature set reads its inputs from, as arrays."""

    def number(self, name: str, required: bool = True) -> np.ndarray:
        """Return a float column (NaN where absent)."""

    def days(self, name: str, required: bool = True) -> np.ndarray:
        """Return a date column as float day numbers (NaN where absent)."""

    def category(self, name: str, required: bool = True) -> np.ndarray:
        """Return a text column as an object array (None where absent)."""

    def flag(self, name: str, required: bool = True) -> np.ndarray:
        """Return a true/false column as 1.0/0.0 (NaN where absent)."""


class FrameSource:
    """Read whole columns of a DataFrame; a missing required column is an error."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def _column(self, name: str, required: bool) -> pd.Series | None:
        if name in self.frame.columns:
            return self.frame[name]
        if required:
            raise FeatureError(name, "column is missing")
        return None

    def number(self, name: str, required: bool = True) -> np.ndarray:
        """Return a float column (NaN where absent or not a number)."""
        col = self._column(name, required)
        if col is None:
            return np.full(len(self.frame), np.nan)
        return pd.to_numeric(col, errors="coerce").to_numpy(dtype=float, na_value=np.nan)

    def days(self, name: str, required: bool = True) -> np.ndarray:
        """Return a date column as float day numbers."""
        col = self._column(name, required)
        if col is None:
            return np.full(len(self.frame), np.nan)
        stamps = pd.to_datetime(col, errors="coerce", format="mixed")
        out = (stamps.to_numpy(dtype="datetime64[D]") - EPOCH).astype(float)
        out[stamps.isna().to_numpy()] = np.nan
        return out

    def category(self, name: str, required: bool = True) -> np.ndarray:
        """Return a text column as objects, None where absent."""
        col = self._column(name, required)
        if col is None:
            return np.full(len(self.frame), None, dtype=object)
        values = col.astype(object).where(col.notna(), None)
        return np.array([None if v is None else str(v) for v in values], dtype=object)

    def flag(self, name: str, required: bool = True) -> np.ndarray:
        """Return a true/false column as 1.0/0.0, NaN where absent."""
        col = self._column(name, required)
        if col is None:
            return np.full(len(self.frame), np.nan)
        mapped = col.map({True: 1.0, False: 0.0, "true": 1.0, "false": 0.0})  # 1 and 0 hash as True, False
        return pd.to_numeric(mapped, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


class RecordSource:
    """Read one claim's values, refusing anything missing or malformed by name."""

    def __init__(self, record: Mapping[str, Any]) -> None:
        self.record = record

    def _value(self, name: str, required: bool) -> Any:
        value = self.record.get(name)
        if value is None and required:
            raise FeatureError(name, "required for scoring but missing")
        return value

    def number(self, name: str, required: bool = True) -> np.ndarray:
        """Return the value as a one-element float array."""
        value = self._value(name, required)
        if value is None:
            return np.array([np.nan])
        if isinstance(value, bool):
            raise FeatureError(name, "expected a number, got true/false")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise FeatureError(name, f"expected a number, got {value!r}") from None
        if not np.isfinite(number):
            raise FeatureError(name, "expected a finite number")
        return np.array([number])

    def days(self, name: str, required: bool = True) -> np.ndarray:
        """Return the date as a one-element array of day numbers."""
        value = self._value(name, required)
        if value is None:
            return np.array([np.nan])
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise FeatureError(name, f"expected a date (YYYY-MM-DD), got {value!r}") from None
        if not isinstance(value, dt.date):
            raise FeatureError(name, f"expected a date (YYYY-MM-DD), got {value!r}")
        return np.array([float((np.datetime64(value, "D") - EPOCH).astype(int))])

    def category(self, name: str, required: bool = True) -> np.ndarray:
        """Return the value as a one-element object array."""
        value = self._value(name, required)
        if value is not None and not isinstance(value, str | int | bool):
            raise FeatureError(name, f"expected text, got {value!r}")
        return np.array([None if value is None else str(value)], dtype=object)

    def flag(self, name: str, required: bool = True) -> np.ndarray:
        """Return the value as a one-element 1.0/0.0 array."""
        value = self._value(name, required)
        if value is None:
            return np.array([np.nan])
        if not isinstance(value, bool):
            raise FeatureError(name, f"expected true or false, got {value!r}")
        return np.array([1.0 if value else 0.0])


class FeatureSet(Protocol):
    """What training and scoring need from a feature set."""

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    inputs: tuple[str, ...]  # the input fields the features are derived from

    def compute(self, source: Source) -> dict[str, np.ndarray]:
        """Derive every feature from a source, as arrays."""

    def describe(self) -> dict[str, Any]:
        """Describe the feature set for the run's record."""


def frame(features: FeatureSet, data: pd.DataFrame) -> pd.DataFrame:
    """Compute features for a whole table (batch)."""
    columns = features.compute(FrameSource(data))
    out = {n: columns[n] for n in features.numeric}
    for name in features.categorical:
        # Object dtype with NaN for absent values: what sklearn's encoders and imputers expect.
        values = columns[name]
        out[name] = pd.Series(np.where(pd.isna(values), np.nan, values), dtype=object)
    return pd.DataFrame(out, index=pd.RangeIndex(len(data)))


def record(features: FeatureSet, claim: Mapping[str, Any]) -> dict[str, Any]:
    """Compute features for one claim (online); raise FeatureError naming a bad field."""
    columns = features.compute(RecordSource(claim))
    return {n: columns[n][0] for n in (*features.numeric, *features.categorical)}


class ClaimFeatures:
    """Features of a claim in this service's own schema (generated data and live claims)."""

    numeric = (
        "log_claimed_amount",
        "amount_to_remaining",
        "amount_to_typical",
        "days_since_inception",
        "report_delay_days",
        "prior_claims_12m",
        "bank_account_changed_days",
        "provider_claims_90d",
        "incident_hour",
        "night_time",
        "injuries",
        "police_report",
        "third_party",
    )
    categorical = ("product", "peril", "channel")
    inputs = (
        "product",
        "peril",
        "channel",
        "claimed_amount",
        "sum_insured_remaining",
        "policy_start",
        "incident_date",
        "report_date",
        "incident_hour",
        "prior_claims_12m",
        "bank_account_changed_days",
        "provider_claims_90d",
        "injuries",
        "police_report",
        "third_party",
    )

    def __init__(self) -> None:
        self.typical: dict[str, float] = {}
        self.overall = 1.0

    def fit(self, data: pd.DataFrame) -> ClaimFeatures:
        """Learn the typical claimed amount per product and peril."""
        keys = data["product"].astype(str) + "/" + data["peril"].astype(str)
        amounts = pd.to_numeric(data["claimed_amount"], errors="coerce")
        self.typical = {str(k): float(v) for k, v in amounts.groupby(keys).median().items()}
        self.overall = float(amounts.median())
        return self

    def compute(self, source: Source) -> dict[str, np.ndarray]:
        """Derive the claim features from a source."""
        amount = source.number("claimed_amount")
        remaining = source.number("sum_insured_remaining")
        product, peril = source.category("product"), source.category("peril")
        incident = source.days("incident_date")
        hour = source.number("incident_hour")
        typical = np.array(
            [self.typical.get(f"{p}/{q}", self.overall) for p, q in zip(product, peril, strict=True)]
        )
        return {
            "log_claimed_amount": np.log1p(amount),
            "amount_to_remaining": amount / np.maximum(remaining, 1.0),
            "amount_to_typical": amount / typical,
            "days_since_inception": incident - source.days("policy_start"),
            "report_delay_days": source.days("report_date") - incident,
            "prior_claims_12m": source.number("prior_claims_12m"),
            "bank_account_changed_days": source.number("bank_account_changed_days", required=False),
            "provider_claims_90d": source.number("provider_claims_90d"),
            "incident_hour": hour,
            "night_time": np.where(np.isnan(hour), np.nan, (hour < 5).astype(float)),
            "injuries": source.number("injuries"),
            "police_report": source.flag("police_report", required=False),
            "third_party": source.flag("third_party", required=False),
            "product": product,
            "peril": peril,
            "channel": source.category("channel"),
        }

    def describe(self) -> dict[str, Any]:
        """Describe the feature set."""
        return {
            "kind": "claims",
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
        }
