"""Score claims with the registered champion: a calibrated score, a band and its factors.

A `Scorer` holds a `ServingModel`, so scoring one claim needs only numpy and LightGBM's
library. The score is advisory: it routes a claim to investigation, it never denies one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from risk_models.serving import Bands, Factor, ServingModel

if TYPE_CHECKING:
    from risk_models.model import FraudRiskModel

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
    """Scores claims one at a time with one loaded model; bands may be tuned without retraining."""

    def __init__(
        self, model: ServingModel | FraudRiskModel, version: str, bands: Bands | None = None, top: int = 5
    ) -> None:
        serving = model if isinstance(model, ServingModel) else model.serving(version)
        if bands is not None:
            serving = replace(serving, bands=bands)
        self.model = serving
        self.version = version
        self.top = top

    @classmethod
    def from_registry(cls, ref: str = "champion", bands: Bands | None = None) -> Scorer:
        """Load a registered version or alias (e.g. models:/fraud-risk@champion) in this process."""
        from risk_models import registry  # imports MLflow: a serving process uses `from_json`

        model, version = registry.load(ref)
        return cls(model, version, bands)

    @classmethod
    def from_json(cls, text: str, bands: Bands | None = None) -> Scorer:
        """Load a model from its serving document (see `risk_models.export`)."""
        model = ServingModel.from_json(text)
        return cls(model, model.version, bands)

    @property
    def bands(self) -> Bands:
        """Return the band thresholds in use."""
        return self.model.bands

    def score(self, claim: Mapping[str, Any]) -> RiskScore:
        """Score one claim with its top factors; raise FeatureError naming a bad field."""
        score, band, factors = self.model.score(claim, top=self.top)
        return RiskScore(round(score, 6), band, factors, MODEL_NAME, self.version)
