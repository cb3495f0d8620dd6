"""Features for the fraud-risk model, computed by one code path for batch and online scoring.

A feature set reads its inputs through a `Source`: a DataFrame (batch, whole columns; see
`frames`) or one claim's mapping (online, one-element arrays, strictly checked). The same numpy
code then derives the features from either, so training and scoring cannot drift apart. This
module imports no pandas, so a serving process that scores one claim at a time never loads it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
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


# Dates as exports write them, month first as the training side reads them (pandas' default).
DATE_FORMATS = ("%m/%d/%Y", "%d/%m/%Y", "%Y/%m/%d", "%d.%m.%Y", "%m-%d-%Y", "%Y%m%d")


def _date(name: str, text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip()[:10])
    except ValueError:
        pass
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    raise FeatureError(name, f"expected a date (YYYY-MM-DD), got {text!r}")


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
            value = _date(name, value)
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


@dataclass(frozen=True)
class Input:
    """One input a model reads: its name, its kind of value, and whether a claim must carry it."""

    name: str
    type: str  # number | date | category | flag
    required: bool


# What the service supplies for every claim (its history, policy and claim fields): the
# inputs a model must be satisfied with to score the service's claims.
SERVICE_INPUTS = (
    Input("product", "category", True),
    Input("peril", "category", True),
    Input("channel", "category", True),
    Input("claimed_amount", "number", True),
    Input("sum_insured_remaining", "number", True),
    Input("policy_start", "date", True),
    Input("incident_date", "date", True),
    Input("report_date", "date", True),
    Input("incident_hour", "number", True),
    Input("prior_claims_12m", "number", True),
    Input("bank_account_changed_days", "number", False),
    Input("provider_claims_90d", "number", True),
    Input("injuries", "number", True),
    Input("police_report", "flag", False),
    Input("third_party", "flag", False),
    # Network indicators: other policies whose recent claims used the same payee account or phone.
    Input("payee_shared_policies", "number", False),
    Input("phone_shared_policies", "number", False),
)
NETWORK = ("payee_shared_policies", "phone_shared_policies")


def contract(features: FeatureSet) -> dict[str, Any]:
    """The inputs a fitted feature set needs and its mode: `service` (the service's own claim
    schema) or `table` (the columns of the table it was trained on)."""
    if isinstance(features, ClaimFeatures):
        return {"mode": "service", "inputs": [asdict(i) for i in SERVICE_INPUTS]}
    if isinstance(features, TableColumns):
        kinds = {r.column: r.role for r in features.roles}
        kind = {"numeric": "number", "categorical": "category", "date": "date"}
        return {
            "mode": "table",
            "inputs": [
                asdict(Input(name, kind[kinds[name]], name in features.required)) for name in features.inputs
            ],
        }
    raise TypeError(f"no input contract for feature set {type(features).__name__}")


def service_problems(terms: Mapping[str, Any]) -> list[str]:
    """Why a model with this contract cannot score the service's claims (none: it can)."""
    if terms.get("mode") != "service":
        names = ", ".join(i["name"] for i in terms.get("inputs", [])[:6])
        return [
            f"it is a {terms.get('mode')!r}-mode model, trained on another table's columns ({names}, ...), "
            "not on the service's claim schema"
        ]
    offered = {i.name: i.type for i in SERVICE_INPUTS}
    problems = []
    for wanted in terms.get("inputs", []):
        if wanted["required"] and wanted["name"] not in offered:
            problems.append(f"it needs {wanted['name']!r}, which the service does not supply")
        elif wanted["name"] in offered and offered[wanted["name"]] != wanted["type"]:
            supplied = offered[wanted["name"]]
            problems.append(
                f"it reads {wanted['name']!r} as a {wanted['type']}, the service supplies a {supplied}"
            )
    return problems


def record(features: FeatureSet, claim: Mapping[str, Any]) -> dict[str, Any]:
    """Compute features for one claim (online); raise FeatureError naming a bad field."""
    if features.inputs and not any(name in claim for name in features.inputs):
        # Nothing the model reads is there: every feature would be missing, and the score the same.
        raise FeatureError(
            features.inputs[0], f"none of the model's {len(features.inputs)} inputs is in the claim"
        )
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
    inputs = tuple(i.name for i in SERVICE_INPUTS)

    def __init__(self) -> None:
        self.typical: dict[str, float] = {}
        self.overall = 1.0
        # A new feature set learns the network indicators too. The class keeps the older list:
        # a model fitted before them (pickled without this attribute) still reads its own.
        self.numeric = (*ClaimFeatures.numeric, *NETWORK)

    def fit(self, data: pd.DataFrame) -> ClaimFeatures:
        """Learn the typical claimed amount per product and peril."""
        import pandas as pd  # training only: serving restores a fitted set with `restore`

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
            **{name: source.number(name, required=False) for name in NETWORK},
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


@dataclass(frozen=True)
class Role:
    """What the generic mode does with one column, and why."""

    column: str
    role: str  # numeric | categorical | date | dropped | label
    reason: str


class TableColumns:
    """Features of an arbitrary claims table, given each column's role (see `tabular`)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.roles: list[Role] = []
        self.numeric: tuple[str, ...] = ()
        self.categorical: tuple[str, ...] = ()
        self.dates: tuple[str, ...] = ()
        self.inputs: tuple[str, ...] = ()
        self.required: frozenset[str] = frozenset()  # inputs no fitting row lacked: a claim must carry them

    def compute(self, source: Source) -> dict[str, np.ndarray]:
        """Derive the table's features from a source."""
        out: dict[str, np.ndarray] = {}
        diffs = set(self.numeric) - {r.column for r in self.roles}
        for name in self.numeric:
            if name not in diffs:
                out[name] = source.number(name, required=name in self.required)
        days = {d: source.days(d, required=d in self.required) for d in self.dates}
        for a, b in combinations(self.dates, 2):
            out[f"days_{a}_to_{b}"] = days[b] - days[a]
        for name in self.categorical:
            out[name] = source.category(name, required=name in self.required)
        return out

    def describe(self) -> dict[str, Any]:
        """Describe the roles chosen for every column."""
        return {
            "kind": "table",
            "numeric": list(self.numeric),
            "categorical": list(self.categorical),
            "roles": [asdict(r) for r in self.roles],
        }


def state(features: FeatureSet) -> dict[str, Any]:
    """Return a fitted feature set as plain JSON-ready data (what `restore` reads back).

    Exact classes only: a subclass may compute other features or hold other state, and restoring
    it as its base class would serve features the model was not trained on.
    """
    from risk_models import tabular  # its TableFeatures only adds how the roles are learned

    if type(features) is ClaimFeatures:
        return {
            "kind": "claims",
            "typical": dict(features.typical),
            "overall": features.overall,
            "numeric": list(features.numeric),
        }
    if type(features) in (TableColumns, tabular.TableFeatures):
        return {
            "kind": "table",
            "label": features.label,
            "roles": [asdict(r) for r in features.roles],
            "numeric": list(features.numeric),
            "categorical": list(features.categorical),
            "dates": list(features.dates),
            "inputs": list(features.inputs),
            "required": sorted(features.required),
        }
    raise TypeError(f"no plain state for feature set {type(features).__name__}")


def restore(data: Mapping[str, Any]) -> FeatureSet:
    """Rebuild a fitted feature set from `state`'s data."""
    if data["kind"] == "claims":
        claims = ClaimFeatures()
        claims.typical = {str(k): float(v) for k, v in data["typical"].items()}
        claims.overall = float(data["overall"])
        # A document from before the network indicators lists no features: the older set.
        claims.numeric = tuple(data.get("numeric", ClaimFeatures.numeric))
        unknown = set(claims.numeric) - {*ClaimFeatures.numeric, *NETWORK}
        if unknown:
            raise ValueError(
                f"the serving document names features this version does not compute: {sorted(unknown)}"
            )
        return claims
    if data["kind"] == "table":
        table = TableColumns(data["label"])
        table.roles = [Role(**r) for r in data["roles"]]
        table.numeric = tuple(data["numeric"])
        table.categorical = tuple(data["categorical"])
        table.dates = tuple(data["dates"])
        table.inputs = tuple(data["inputs"])
        table.required = frozenset(data.get("required", ()))  # documents before the contract: none
        return table
    raise ValueError(f"unknown feature set kind {data['kind']!r}")
