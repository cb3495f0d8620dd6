"""Model tests: train on small generated data (seconds), check quality and behaviour."""

import json

import numpy as np
import pandas as pd
import pytest

from risk_models import synth
from risk_models.features import ClaimFeatures, FeatureError, record
from risk_models.model import Bands
from risk_models.scorer import Scorer
from risk_models.serving import ServingModel
from risk_models.train import TrainConfig, train

pytestmark = pytest.mark.model


def test_small_model_is_useful_and_beats_the_baseline(trained):
    assert trained.metrics["roc_auc"] > 0.82
    assert trained.metrics["recall_at_10pct"] > 0.4
    assert trained.metrics["roc_auc"] > trained.baseline_metrics["baseline_roc_auc"]
    assert trained.metrics["pr_auc"] > trained.baseline_metrics["baseline_pr_auc"]
    assert trained.model.metadata["holdout_from"] > "2026"  # out of time: the newest claims


def test_holdout_is_newer_than_everything_trained_on(claims, trained):
    newest_holdout_start = pd.to_datetime(trained.model.metadata["holdout_from"])
    assert (pd.to_datetime(trained.holdout["report_date"]) >= newest_holdout_start).all()
    assert len(trained.holdout) == round(len(claims) * 0.2)


def test_quality_bar_on_100k_generated_claims():
    claims = synth.generate(100_000, seed=7)
    result = train(claims, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=7, cv_folds=0))
    assert result.metrics["roc_auc"] >= 0.85
    assert result.metrics["recall_at_10pct"] >= 0.40


def test_training_twice_gives_the_same_numbers(claims):
    sample = claims.head(6000)
    config = TrainConfig(seed=3, cv_folds=0)
    a = train(sample, ClaimFeatures(), "is_fraud", "report_date", config)
    b = train(sample, ClaimFeatures(), "is_fraud", "report_date", config)
    assert a.metrics == b.metrics
    np.testing.assert_array_equal(a.holdout_scores, b.holdout_scores)


def test_online_and_batch_scores_agree(trained):
    scorer = Scorer(trained.model, "test")
    sample = trained.holdout.head(300)
    batch = trained.model.score_table(sample)
    online = [scorer.score(row) for row in sample.to_dict("records")]
    np.testing.assert_allclose(batch["score"], [s.score for s in online], atol=1e-6)
    assert list(batch["band"]) == [s.band for s in online]


def test_factors_are_lightgbms_own_contributions(trained):
    serving = trained.model.serving("test")
    booster = trained.model.pipeline[-1].booster_
    rows = trained.holdout.head(50).to_dict("records")
    for row in rows:
        encoded = serving.encode(record(trained.model.features, row))
        expected = booster.predict(encoded[None, :], pred_contrib=True, num_threads=1)[0]
        np.testing.assert_array_equal(serving._booster.contributions(encoded), expected)
        raw = booster.predict(encoded[None, :], raw_score=True, num_threads=1)[0]
        assert expected.sum() == pytest.approx(raw)
    _, _, factors = serving.score(rows[0], top=3)
    assert len(factors) == 3
    assert [abs(f.contribution) for f in factors] == sorted(
        (abs(f.contribution) for f in factors), reverse=True
    )
    assert all(f.direction == ("raises" if f.contribution > 0 else "lowers") for f in factors)


def test_a_model_read_back_from_its_serving_document_scores_as_the_trained_model(trained):
    scorer = Scorer(trained.model, "7")
    again = Scorer.from_json(scorer.model.to_json())
    assert again.version == "7"
    rows = trained.holdout.head(100)
    for row in rows.to_dict("records"):
        assert again.score(row) == scorer.score(row)  # the document loses nothing
    batch = trained.model.score_frame(rows)  # and the pipeline itself agrees
    np.testing.assert_allclose([again.score(r).score for r in rows.to_dict("records")], batch, atol=1e-6)


def test_a_serving_document_of_another_format_is_refused(trained):
    document = json.loads(trained.model.serving().to_json())
    with pytest.raises(ValueError, match="format 99, expected 1"):
        ServingModel.from_json(json.dumps({**document, "format": 99}))


def test_a_serving_document_whose_parts_disagree_is_refused(trained):
    document = json.loads(trained.model.serving().to_json())
    with pytest.raises(ValueError, match="category lookups"):
        ServingModel.from_json(json.dumps({**document, "codes": document["codes"][:-1]}))


def test_ids_do_not_change_the_score(trained):
    scorer = Scorer(trained.model, "test")
    row = trained.holdout.iloc[5].to_dict()
    renamed = {**row, "claim_id": "OTHER-1", "policy_number": "P999"}
    assert scorer.score(row) == scorer.score(renamed)


def test_a_fresh_bank_account_change_raises_the_score(trained):
    scorer = Scorer(trained.model, "test")
    honest = trained.holdout[trained.holdout.is_fraud == 0].head(200).to_dict("records")
    raised = 0
    for row in honest:
        before = scorer.score({**row, "bank_account_changed_days": None}).score
        after = scorer.score({**row, "bank_account_changed_days": 2}).score
        raised += after > before
        assert after >= before
    assert raised > 150


def test_bands_are_tunable_without_retraining(trained):
    row = trained.holdout.iloc[0].to_dict()
    score = Scorer(trained.model, "t").score(row).score
    assert Scorer(trained.model, "t", bands=Bands(0.0, 0.0)).score(row).band == "high"
    assert Scorer(trained.model, "t", bands=Bands(1.0, 1.0)).score(row).band == (
        "high" if score >= 1 else "low"
    )
    with pytest.raises(ValueError):
        Bands(0.5, 0.2)


def test_scoring_a_malformed_claim_names_the_field(trained):
    row = {**trained.holdout.iloc[0].to_dict(), "incident_date": "yesterday"}
    with pytest.raises(FeatureError, match="incident_date"):
        Scorer(trained.model, "t").score(row)
