"""Score claims with the registered champion: a calibrated score, a band and its factors.

The model is loaded once; each claim is then scored without DataFrames (see OnlineScorer).
The score is advisory: it routes a claim to investigation, it never denies one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from risk_models.model import Bands, Factor, FraudRiskModel, OnlineScorer

MODEL_NAME = "fraud-risk"


@dataclass(frozen=True)
class RiskScore:
    """One claim's fraud-risk early warning."""

    score: float
    band: str
    factors: list[Factor] = field(default_factory=list)
    model_name: str = MODEL_NAME
    model_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


class Scorer:
    """Scores claims with one loaded model; bands may be tuned without retraining."""

    def __init__(self, model: FraudRiskModel, version: str, bands: Bands | None = None, top: int = 5) -> None:
        if bands is not None:
            model = replace(model, bands=bands)
        self.model = model
        self.version = version
        self.top = top
        self._online = OnlineScorer(model)

    @classmethod
    def from_registry(cls, ref: str = "champion", bands: Bands | None = None) -> Scorer:
        """Load a registered version or alias (e.g. models:/fraud-risk@champion) once."""
        from risk_models import registry  # mlflow is heavy; only this path needs it

        model, version = registry.load(ref)
        return cls(model, version, bands)

    @property
    def bands(self) -> Bands:
        """Return the band thresholds in use."""
        return self.model.bands

    def score(self, claim: Mapping[str, Any]) -> RiskScore:
        """Score one claim with its top factors; raise FeatureError naming a bad field."""
        score, band, factors = self._online.score(claim, top=self.top)
        return RiskScore(round(score, 6), band, factors, MODEL_NAME, self.version)

    def score_batch(self, claims: pd.DataFrame) -> pd.DataFrame:
        """Score a table of claims at once (no factors): columns score and band."""
        scores = self.model.score_frame(claims)
        return pd.DataFrame(
            {"score": np.round(scores, 6), "band": self.model.bands.of_many(scores)},
            index=claims.index,
        )
