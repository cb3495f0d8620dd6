"""A model's inputs are a contract: scoring refuses a claim missing a required input, and a
model trained on another table's columns can never score (or become the champion of) the
service's claims."""

import numpy as np
import pandas as pd
import pytest

from risk_models import features as F
from risk_models import synth, tabular
from risk_models.features import ClaimFeatures, FeatureError
from risk_models.serving import ServingModel
from risk_models.train import TrainConfig, train

pytestmark = pytest.mark.model


def table_result(seed: int = 3):
    """A small table-mode model: columns of some other insurer's export, not the service's."""
    rng = np.random.default_rng(seed)
    n = 2500
    y = (rng.random(n) < 0.2).astype(int)
    frame = pd.DataFrame(
        {
            "claim_date": pd.date_range("2024-01-01", periods=n, freq="3h").strftime("%Y-%m-%d"),
            "amount": rng.lognormal(8, 1, n) * (1 + y),
            "region": rng.choice(["north", "south", "east"], n),
            "witness": np.where(rng.random(n) < 0.3, None, rng.choice(["yes", "no"], n)),
            "fraud": y,
        }
    )
    features = tabular.TableFeatures("fraud").assign(frame)
    return train(frame, features, "fraud", "claim_date", TrainConfig(seed=seed, cv_folds=0, max_trees=50))


@pytest.fixture(scope="module")
def table_model() -> ServingModel:
    return ServingModel.from_json(table_result().model.serving("7").to_json())


@pytest.fixture(scope="module")
def service_model() -> ServingModel:
    claims = synth.generate(3000, seed=5)
    result = train(
        claims, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=5, cv_folds=0, max_trees=50)
    )
    return ServingModel.from_json(result.model.serving("8").to_json())


def _plain(value):
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value.item() if isinstance(value, np.generic) else value


def _service_claim() -> dict:
    """One claim as the service supplies it (plain Python values)."""
    row = synth.generate(50, seed=9).iloc[0]
    return {name: _plain(row[name]) for name in ClaimFeatures.inputs}


def test_the_contract_names_each_input_its_type_and_whether_a_claim_must_carry_it(table_model):
    terms = F.contract(table_model.features)
    assert terms["mode"] == "table"
    shown = {i["name"]: (i["type"], i["required"]) for i in terms["inputs"]}
    # The witness column had blanks when the model was fitted: a claim may lack it.
    assert shown == {
        "claim_date": ("date", True),
        "amount": ("number", True),
        "region": ("category", True),
        "witness": ("category", False),
    }
    service = F.contract(ClaimFeatures())
    assert service["mode"] == "service" and F.service_problems(service) == []
    assert {i["name"]: i["required"] for i in service["inputs"]}["bank_account_changed_days"] is False


def test_a_table_model_refuses_the_service_claim_instead_of_scoring_it_as_missing(table_model):
    for claim in ({}, _service_claim()):
        with pytest.raises(FeatureError, match="none of the model's 4 inputs"):
            table_model.score(claim)
    with pytest.raises(FeatureError) as missing:
        table_model.score({"amount": 900.0, "region": "north"})
    assert missing.value.field == "claim_date" and "required" in missing.value.message
    score, _, _ = table_model.score({"amount": 900.0, "region": "north", "claim_date": "2024-05-01"})
    assert 0 <= score <= 1  # the optional witness may be absent
    problems = F.service_problems(F.contract(table_model.features))
    assert len(problems) == 1 and "'table'-mode model" in problems[0] and "claim_date" in problems[0]


def test_the_service_model_refuses_a_claim_missing_a_required_input(service_model):
    claim = _service_claim()
    assert 0 <= service_model.score(claim)[0] <= 1
    for name in ("claimed_amount", "report_date", "product"):
        with pytest.raises(FeatureError) as refused:
            service_model.score({k: v for k, v in claim.items() if k != name})
        assert refused.value.field == name
    optional = {k: v for k, v in claim.items() if k != "bank_account_changed_days"}
    assert 0 <= service_model.score(optional)[0] <= 1


def test_a_contract_the_service_cannot_meet_is_named():
    wants = {
        "mode": "service",
        "inputs": [
            {"name": "claimed_amount", "type": "date", "required": True},
            {"name": "vehicle_age", "type": "number", "required": True},
            {"name": "hobby", "type": "category", "required": False},
        ],
    }
    assert F.service_problems(wants) == [
        "it reads 'claimed_amount' as a date, the service supplies a number",
        "it needs 'vehicle_age', which the service does not supply",
    ]


def test_a_serving_document_from_before_the_network_indicators_keeps_its_features():
    """Models registered before the network features serve with the features they were fitted on."""
    old = {"kind": "claims", "typical": {"motor/collision": 9000.0}, "overall": 8000.0}  # no list
    restored = F.restore(old)
    assert restored.numeric == ClaimFeatures.numeric and "payee_shared_policies" not in restored.numeric
    assert "payee_shared_policies" in ClaimFeatures().numeric  # a new fit learns them
    with pytest.raises(ValueError, match="does not compute"):
        F.restore({**old, "numeric": [*ClaimFeatures.numeric, "shoe_size"]})


def test_a_table_model_scores_a_row_with_its_files_own_date_spelling(table_model):
    iso = table_model.score({"amount": 900.0, "region": "north", "claim_date": "2024-05-01"})[0]
    for spelt in ("5/1/2024", "2024/05/01", "20240501"):
        assert table_model.score({"amount": 900.0, "region": "north", "claim_date": spelt})[0] == iso, spelt
    with pytest.raises(FeatureError, match="expected a date"):
        table_model.score({"amount": 900.0, "region": "north", "claim_date": "next week"})
