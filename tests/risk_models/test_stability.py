"""The serving model watches its own drift: a window of the claims it scored, compared with the
training population by the same PSI `claims model drift` reports."""

import numpy as np
import pandas as pd
import pytest

from risk_models import drift, frames, synth
from risk_models.features import ClaimFeatures
from risk_models.serving import ServingModel
from risk_models.train import TrainConfig, train

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def trained():
    claims = synth.generate(6000, seed=3)
    return train(
        claims, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=3, cv_folds=0, max_trees=60)
    )


def _plain(row: pd.Series) -> dict:
    out = {}
    for name in ClaimFeatures.inputs:
        value = row[name]
        if isinstance(value, pd.Timestamp):
            value = value.date()
        out[name] = None if value is pd.NA else (value.item() if isinstance(value, np.generic) else value)
    return out


def test_the_window_gives_the_psi_the_drift_report_gives(trained):
    served = ServingModel.from_json(trained.model.serving("4").to_json())
    assert served.reference is not None  # the training profile travels in the serving document
    recent = synth.generate(800, seed=11)
    recent["claimed_amount"] *= 3  # inflation, or a new kind of claim: the amounts moved
    for _, row in recent.iterrows():
        served.score(_plain(row))
    window = served.window.psi(served.reference)
    features = frames.frame(trained.model.features, recent)
    report = drift.compare(trained.model.metadata["reference"], features, trained.model.score_frame(recent))
    expected = dict(zip(report["feature"], report["psi"], strict=True))
    for name in ("log_claimed_amount", "amount_to_typical", "report_delay_days", "product"):
        assert window[name] == pytest.approx(expected[name], abs=2e-3), name
    assert window["log_claimed_amount"] > drift.FLAG and window["report_delay_days"] < drift.FLAG
    assert len(served.window.rows) == 800


def test_a_document_without_a_profile_keeps_no_window(trained):
    served = ServingModel.from_json(trained.model.serving("4").to_json())
    served.reference = None
    served.score(_plain(synth.generate(5, seed=1).iloc[0]))
    assert len(served.window.rows) == 0
