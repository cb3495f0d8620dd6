"""`claims model ...` end to end on a temporary data directory with a real MLflow store."""

import json
import re

import pytest
from typer.testing import CliRunner

from risk_models import synth
from service.cli import app

pytestmark = pytest.mark.model
runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        folder = tmp_path_factory.mktemp("data")
        patch.setenv("CLAIMS_DATA_DIR", str(folder))
        yield folder


def test_synth_writes_claims(tmp_path):
    out = tmp_path / "claims.csv"
    result = runner.invoke(app, ["model", "synth", "--n", "500", "--seed", "2", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 500 claims" in result.output and out.exists()


def test_train_promote_list_score_drift(data_dir, tmp_path):
    trained = runner.invoke(app, ["model", "train", "--n", "8000", "--seed", "4"])
    assert trained.exit_code == 0, trained.output
    assert "logistic baseline" in trained.output
    version = re.search(r"registered fraud-risk version (\d+)", trained.output).group(1)

    king = runner.invoke(app, ["model", "promote", version, "--alias", "king"])
    assert king.exit_code == 2 and "champion or challenger" in king.output
    promoted = runner.invoke(app, ["model", "promote", version])
    assert promoted.exit_code == 0, promoted.output
    assert "promoted" in promoted.output

    listed = runner.invoke(app, ["model", "list"])
    assert "champion" in listed.output and version in listed.output

    claim = synth.generate(3, seed=8).iloc[0].to_dict()
    for key in ("policy_start", "policy_end", "incident_date", "report_date"):
        claim[key] = claim[key].isoformat()
    facts = tmp_path / "claim.json"
    facts.write_text(json.dumps(claim, default=str), encoding="utf-8")
    scored = runner.invoke(app, ["model", "score", "--facts", str(facts)])
    assert scored.exit_code == 0, scored.output
    assert re.search(r"score 0\.\d{4}, band (low|medium|high)", scored.output)

    del claim["peril"]
    facts.write_text(json.dumps(claim, default=str), encoding="utf-8")
    bad = runner.invoke(app, ["model", "score", "--facts", str(facts)])
    assert bad.exit_code == 2 and "peril" in bad.output  # the caller's claim misses an input

    recent = tmp_path / "recent.parquet"
    frame = synth.generate(3000, seed=5)
    frame["claimed_amount"] *= 3
    synth.write(frame, recent)
    drifted = runner.invoke(
        app, ["model", "drift", "--recent", str(recent), "--plot", str(tmp_path / "p.png")]
    )
    assert drifted.exit_code == 1, drifted.output
    assert "drifted" in drifted.output and (tmp_path / "p.png").exists()


def test_generic_mode_reports_dropped_columns(data_dir):
    from tests.risk_models.test_tabular import DATA

    if not DATA.exists():
        pytest.skip("shared data not present")
    result = runner.invoke(
        app, ["model", "train", "--data", str(DATA), "--label", "fraud_reported", "--no-register"]
    )
    assert result.exit_code == 0, result.output
    for column in ("policy_number", "insured_zip", "incident_location"):
        assert f"dropped column {column}: id-like" in result.output
    assert "may leak the label" in result.output


def test_unknown_label_column_is_a_clear_error(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(app, ["model", "train", "--data", str(table), "--label", "fraud", "--no-register"])
    assert result.exit_code == 2
    assert "no column 'fraud'" in result.output
