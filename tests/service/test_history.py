"""Investigation outcomes become training labels (`claims model train --from-db`)."""

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import get_settings
from service.database import make_engine
from service.db import upgrade
from service.main import create_app
from tests.service.conftest import Flow, make_settings
from tests.service.test_investigations import _high_risk


@pytest.fixture
def database(scorer, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'claims.db'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    app = create_app(make_settings(url, tmp_path / "data"), scorer=scorer)
    with TestClient(app) as client:
        yield Flow(client)
    get_settings.cache_clear()


def test_labels_come_from_outcomes_and_payments(database):
    from service.history import labelled_claims, recent_claims

    flow = database
    paid = flow.approved_claim()
    flow.pay(paid, "history-key-01")
    fraud = _high_risk(flow)
    investigation = next(
        i
        for i in flow.call("investigator", "GET", "/v1/investigations")
        if i["claim_number"] == fraud["claim_number"]
    )
    flow.call(
        "investigator",
        "POST",
        f"/v1/investigations/{investigation['id']}/outcome",
        {"outcome": "confirmed_fraud", "notes": "forged invoice"},
    )
    flow.report()  # still open: no label yet

    labelled = labelled_claims().set_index("claim_number")["is_fraud"].to_dict()
    assert labelled == {paid["claim_number"]: 0, fraud["claim_number"]: 1}
    recent = recent_claims()
    assert len(recent) == 4  # paid, withdrawn, fraud and the open one
    assert {"product", "claimed_amount", "bank_account_changed_days", "provider_claims_90d"} <= set(
        recent.columns
    )


def test_train_from_db_refuses_too_little_history(database):
    flow = database
    flow.pay(flow.approved_claim(), "history-key-02")
    result = CliRunner().invoke(cli, ["model", "train", "--from-db", "--no-register"])
    assert result.exit_code == 2
    assert "1 labelled claims in the database" in result.output


def test_backtest_reads_claims_from_the_database(database, tmp_path):
    flow = database
    flow.report()
    flow.report(claimed_amount="8000.00")
    from service.history import rule_facts

    facts = rule_facts("motor")
    assert len(facts) == 2 and set(facts["claimed_amount"]) == {"4200.00", "8000.00"}
    assert "risk_band" in facts.columns and "investigation_outcome" in facts.columns
    result = CliRunner().invoke(
        cli,
        ["rules", "backtest", "--candidate", "motor", "--claims", "db", "--out", str(tmp_path / "b.html")],
    )
    assert result.exit_code == 0, result.output
    assert "2 motor claims" in result.output and "0 change" in result.output
    assert "baseline: motor 2026.12.9 (the version in force in the service)" in result.output


def test_a_backtest_against_the_database_compares_with_the_version_in_force(database, tmp_path):
    from tests.service.test_rulebooks import CANDIDATE, TESTS

    flow = database
    flow.report()
    flow.call("analyst", "POST", "/v1/rulebooks", {"text": CANDIDATE, "tests": TESTS}, expect=201)
    flow.call("analyst2", "POST", "/v1/rulebooks/motor/versions/2026.12.1/approve")
    flow.call("analyst2", "POST", "/v1/rulebooks/motor/versions/2026.12.1/activate")
    shipped = ["rules", "backtest", "--candidate", "motor", "--out", str(tmp_path / "b.html")]
    result = CliRunner().invoke(cli, [*shipped, "--claims", "db"])
    assert result.exit_code == 0, result.output
    assert "baseline: motor 2026.12.1 (the version in force in the service)" in result.output
    assert "candidate: motor 2026.12.9" in result.output
