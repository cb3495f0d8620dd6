"""The trained fraud-risk model: feature set, sklearn pipeline, calibration and bands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from risk_models import features as F
from risk_models import frames
from risk_models.serving import Bands, Factor, ServingModel, missing

__all__ = ["BANDS", "Bands", "Factor", "FraudRiskModel"]

BANDS = ("low", "medium", "high")


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
        return frames.frame(self.features, data)

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

    def score_table(self, data: pd.DataFrame) -> pd.DataFrame:
        """Score a table of claims at once (no factors): columns score and band."""
        scores = self.score_frame(data)
        return pd.DataFrame(
            {"score": np.round(scores, 6), "band": self.bands.of_many(scores)}, index=data.index
        )

    def serving(self, version: str = "") -> ServingModel:
        """Return the form a serving process scores with (see `serving`)."""
        encoder = self.pipeline[0].named_transformers_["cat"]
        codes = [
            {str(c): float(i) for i, c in enumerate(cats) if not missing(c)} for cats in encoder.categories_
        ]
        return ServingModel(
            features=self.features,
            codes=codes,
            booster_text=self.pipeline[-1].booster_.model_to_string(),
            calibration_x=np.asarray(self.calibration_x, dtype=float),
            calibration_y=np.asarray(self.calibration_y, dtype=float),
            bands=self.bands,
            label=self.label,
            version=version,
            reference=self.metadata.get("reference"),
        )
