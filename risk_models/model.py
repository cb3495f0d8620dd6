"""The trained fraud-risk model: feature set, sklearn pipeline, calibration and bands."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from risk_models import features as F

BANDS = ("low", "medium", "high")


@dataclass(frozen=True)
class Bands:
    """Score thresholds: at or above `high` is high, at or above `medium` is medium."""

    medium: float
    high: float

    def __post_init__(self) -> None:
        if not 0 <= self.medium <= self.high <= 1:
            raise ValueError("band thresholds must satisfy 0 <= medium <= high <= 1")

    def of(self, score: float) -> str:
        """Return the band of one score."""
        return "high" if score >= self.high else "medium" if score >= self.medium else "low"

    def of_many(self, scores: np.ndarray) -> np.ndarray:
        """Return the bands of many scores."""
        return np.where(scores >= self.high, "high", np.where(scores >= self.medium, "medium", "low"))


@dataclass
class FraudRiskModel:
    """Everything needed to score a claim, saved and registered as one object.

    `pipeline` is ColumnTransformer (numeric passthrough, categories ordinal-encoded) +
    LightGBM; its raw log-odds are calibrated by an isotonic map stored as two arrays, applied
    with np.interp on both the batch and the online path.
    """

    features: F.FeatureSet
    pipeline: Pipeline
    calibration_x: np.ndarray
    calibration_y: np.ndarray
    bands: Bands
    label: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Return the model's feature names, in the pipeline's output order."""
        return (*self.features.numeric, *self.features.categorical)

    def feature_frame(self, data: pd.DataFrame) -> pd.DataFrame:
        """Compute the features of a table of claims."""
        return F.frame(self.features, data)

    def raw_scores(self, feature_frame: pd.DataFrame) -> np.ndarray:
        """Return uncalibrated log-odds for a feature table."""
        encoded = self.pipeline[:-1].transform(feature_frame)
        return self.pipeline[-1].booster_.predict(encoded, raw_score=True, num_threads=1)

    def calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Map raw log-odds to calibrated probabilities."""
        return np.interp(raw, self.calibration_x, self.calibration_y)

    def score_frame(self, data: pd.DataFrame) -> np.ndarray:
        """Return calibrated scores for a table of claims (batch)."""
        return self.calibrate(self.raw_scores(self.feature_frame(data)))

    def importances(self) -> dict[str, float]:
        """Return global gain importance per feature (for the run's record, not per claim)."""
        booster = self.pipeline[-1].booster_
        gains = booster.feature_importance(importance_type="gain")
        return dict(zip(self.feature_names, (float(g) for g in gains), strict=True))


@dataclass(frozen=True)
class Factor:
    """One feature's contribution to one claim's score."""

    feature: str
    value: Any
    contribution: float
    direction: str  # "raises" or "lowers"


class OnlineScorer:
    """Score one claim without DataFrames: the fitted encoder compiled to dict lookups.

    The ColumnTransformer passes numeric features through and ordinal-encodes categories;
    here that is a float copy and one dict lookup per category (unknown or absent: NaN,
    which LightGBM treats as missing, as the OrdinalEncoder is configured to).
    """

    def __init__(self, model: FraudRiskModel) -> None:
        self.model = model
        encoder = model.pipeline[0].named_transformers_["cat"]
        self.codes = [
            {str(c): float(i) for i, c in enumerate(cats) if not _missing(c)} for cats in encoder.categories_
        ]
        self.booster = model.pipeline[-1].booster_
        self.n_numeric = len(model.features.numeric)

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """Encode one claim's features as the pipeline would, as a 1-row array."""
        numeric = [values[n] for n in self.model.features.numeric]
        cats = [
            np.nan if _missing(values[n]) else codes.get(values[n], np.nan)
            for n, codes in zip(self.model.features.categorical, self.codes, strict=True)
        ]
        return np.array([[*numeric, *cats]], dtype=float)

    def score(self, claim: Mapping[str, Any], top: int = 5) -> tuple[float, str, list[Factor]]:
        """Return calibrated score, band and the top contributing factors for one claim."""
        values = F.record(self.model.features, claim)
        row = self.encode(values)
        contrib = self.booster.predict(row, pred_contrib=True, num_threads=1)[0]
        raw = float(contrib.sum())  # TreeSHAP contributions plus bias add up to the raw score
        score = float(self.model.calibrate(np.array([raw]))[0])
        order = np.argsort(-np.abs(contrib[:-1]), kind="stable")[:top]
        names = self.model.feature_names
        factors = [
            Factor(
                names[i],
                _plain(values[names[i]]),
                round(float(contrib[i]), 6),
                "raises" if contrib[i] > 0 else "lowers",
            )
            for i in order
            if contrib[i] != 0
        ]
        return score, self.model.bands.of(score), factors


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value
