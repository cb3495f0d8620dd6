"""The generic mode on a real public claims table and on small edge cases."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from risk_models import tabular
from risk_models.features import ClaimFeatures, TableColumns, state
from risk_models.serving import ServingModel
from risk_models.train import TrainConfig, train

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "insurance_claims.csv"
needs_data = pytest.mark.skipif(not DATA.exists(), reason="shared data not present")


@pytest.fixture(scope="module")
def table():
    frame = tabular.read_table(DATA)
    frame["fraud_reported"] = tabular.label_vector(frame["fraud_reported"])
    return frame


@needs_data
def test_reads_the_messy_file(table):
    assert len(table) == 1000 and table["fraud_reported"].sum() == 247
    assert table["collision_type"].isna().sum() > 0  # "?" is missing
    assert "None" in set(table["authorities_contacted"])  # "None" is a category, not missing


@needs_data
def test_roles_drop_id_like_and_empty_columns(table):
    features = tabular.TableFeatures("fraud_reported").assign(table)
    roles = {r.column: r.role for r in features.roles}
    assert {c for c, r in roles.items() if r == "dropped"} == {
        "policy_number",
        "insured_zip",
        "incident_location",
        "_c39",
    }
    assert roles["policy_bind_date"] == roles["incident_date"] == "date"
    assert roles["total_claim_amount"] == "numeric"  # many values, but an amount, not an id
    assert roles["incident_severity"] == "categorical"
    assert "days_incident_date_to_policy_bind_date" in features.numeric
    assert tabular.pick_time_column(table, features.roles) == "incident_date"


@needs_data
@pytest.mark.model
def test_generic_mode_beats_the_logistic_baseline_out_of_time(table):
    features = tabular.TableFeatures("fraud_reported").assign(table)
    result = train(table, features, "fraud_reported", "incident_date", TrainConfig(seed=7))
    assert result.metrics["roc_auc"] > result.baseline_metrics["baseline_roc_auc"]
    assert result.metrics["pr_auc"] > result.baseline_metrics["baseline_pr_auc"]
    assert result.metrics["roc_auc"] > 0.75
    assert len(result.holdout) == 200


@needs_data
@pytest.mark.model
def test_a_table_model_serves_from_its_document_as_it_scores_in_batch(table):
    features = tabular.TableFeatures("fraud_reported").assign(table)
    model = train(table, features, "fraud_reported", "incident_date", TrainConfig(seed=7)).model
    served = ServingModel.from_json(model.serving("3").to_json())
    assert type(served.features) is TableColumns and served.features.dates == features.dates
    rows = table.head(100).copy()
    for column in features.dates:  # one claim's dates arrive as ISO dates (the file has 1/25/2015)
        rows[column] = pd.to_datetime(rows[column], format="mixed").dt.date.map(lambda d: d.isoformat())
    claims = rows.astype(object).where(rows.notna(), None).to_dict("records")  # absent is None
    online = [served.score(claim)[0] for claim in claims]
    np.testing.assert_allclose(online, model.score_frame(rows), atol=1e-9)


def test_a_feature_set_subclass_has_no_plain_state():
    class Wider(ClaimFeatures):
        pass

    with pytest.raises(TypeError, match="Wider"):
        state(Wider())


@pytest.mark.model
def test_a_leaky_column_triggers_the_too_good_warning():
    rng = np.random.default_rng(0)
    n = 3000
    y = (rng.random(n) < 0.2).astype(int)
    frame = pd.DataFrame(
        {
            "claim_date": pd.date_range("2024-01-01", periods=n, freq="3h").strftime("%Y-%m-%d"),
            "amount": rng.lognormal(8, 1, n),
            "region": rng.choice(["north", "south", "east"], n),
            "investigation_code": np.where(y == 1, "SIU", rng.choice(["none", "desk"], n)),
            "row_id": np.arange(n),
            "fraud": np.where(y == 1, "yes", "no"),
        }
    )
    frame["fraud"] = tabular.label_vector(frame["fraud"])
    features = tabular.TableFeatures("fraud").assign(frame)
    assert "row_id" not in features.inputs
    result = train(frame, features, "fraud", "claim_date", TrainConfig(seed=1))
    assert result.warnings and "may leak the label" in result.warnings[0]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["Y", "N", "N"], [1, 0, 0]),
        (["no", "yes"], [0, 1]),
        ([1, 0], [1, 0]),
        (["True", "false"], [1, 0]),
    ],
)
def test_label_values(values, expected):
    assert list(tabular.label_vector(pd.Series(values, name="l"))) == expected


@pytest.mark.parametrize("values", [["a", "b"], ["Y", "N", "maybe"], ["Y", None]])
def test_unclear_labels_are_refused(values):
    with pytest.raises(ValueError):
        tabular.label_vector(pd.Series(values, name="label"))
