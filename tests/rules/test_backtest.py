"""Backtests: what a rulebook change would do to historical claims."""

import json

import pandas as pd
import yaml
from typer.testing import CliRunner

from rules.backtest import backtest, to_html, to_json
from rules.rulebook import RULEBOOK_DIR, loads
from service.cli import app
from tests.rules.conftest import motor_text_with

BASE = yaml.safe_load((RULEBOOK_DIR / "motor.tests.yaml").read_text(encoding="utf-8"))["base"]


def _history() -> pd.DataFrame:
    rows = [
        {**BASE, "claim_number": "C1", "claimed_amount": "4000.00"},  # simple either way
        {**BASE, "claim_number": "C2", "claimed_amount": "8000.00"},  # simple -> complex
        {
            **BASE,
            "claim_number": "C3",
            "claimed_amount": "9000.00",
            "risk_band": "medium",
            "investigation_outcome": "confirmed_fraud",
        },
        {
            **BASE,
            "claim_number": "C4",
            "claimed_amount": "9000.00",
            "risk_band": "medium",
            "investigation_outcome": "cleared",
        },
        {
            **BASE,
            "claim_number": "C5",
            "peril": "theft",
            "police_report": True,
            "documents_received": ["claim_form", "driving_licence", "vehicle_licence", "police_report"],
        },
    ]
    return pd.DataFrame(rows)


def _candidate():
    text = motor_text_with(
        ('version: "2026.12.9"', 'version: "2026.12.1"'),
        ("  simple_max_amount: 10000 ", "  simple_max_amount: 5000 "),
        ("  risk_escalation_band: high", "  risk_escalation_band: medium"),
    )
    return loads(text, source="motor.yaml")


def test_a_threshold_change_shows_flips_deltas_and_investigations(motor):
    report = backtest(motor, _candidate(), _history())
    assert report["claims"] == 5
    assert report["route_transitions"]["simple"] == {"simple": 2, "complex": 1}
    assert report["changed"] == {"any": 3, "coverage": 0, "route": 1, "payable_amount": 0, "investigate": 2}
    assert {e["claim"] for e in report["examples"]} == {"C2", "C3", "C4"}
    assert report["payable_total"]["delta"] == "0.00"
    rates = report["rule_firing_rates"]
    assert rates["baseline"]["MOT-RSK-001"] == 0.0 and rates["candidate"]["MOT-RSK-001"] == 0.4
    investigations = report["investigations"]
    assert investigations["confirmed_frauds_sent_to_investigation"] == {"baseline": 0, "candidate": 1}
    assert investigations["cleared_claims_held_up"] == {"baseline": 0, "candidate": 1}
    assert "MOT-EXC-003" in report["never_fire"]["baseline"]
    assert ["MOT-COV-001"] not in report["always_fire_together"]["baseline"]


def test_a_payable_change_is_summed_exactly(motor):
    text = motor_text_with(
        ('version: "2026.12.9"', 'version: "2026.12.2"'), ("    equal: 0.5\n", "    equal: 0.6\n")
    )
    history = pd.DataFrame(
        [
            {
                **BASE,
                "claim_number": f"E{i}",
                "peril": "collision",
                "third_party": True,
                "fault_share": "equal",
                "claimed_amount": "1000.03",
                "documents_received": [*BASE["documents_received"], "accident_certificate"],
            }
            for i in range(3)
        ]
    )
    report = backtest(motor, loads(text, source="motor.yaml"), history)
    # (1000.03 - 500) x 0.5 = 250.015 -> 250.02; x 0.6 = 300.018 -> 300.02
    assert report["payable_total"] == {"baseline": "750.06", "candidate": "900.06", "delta": "150.00"}


def test_reports_render(motor):
    report = backtest(motor, _candidate(), _history())
    assert json.loads(to_json(report))["changed"]["route"] == 1
    page = to_html(report)
    assert page.startswith("<!doctype html>") and page.count("data:image/png;base64") == 1


def test_backtest_command(tmp_path):
    history = tmp_path / "history.parquet"
    _history().to_parquet(history)
    candidate = tmp_path / "motor.yaml"
    candidate.write_text(
        motor_text_with(
            ('version: "2026.12.9"', 'version: "2026.12.1"'),
            ("  simple_max_amount: 10000 ", "  simple_max_amount: 5000 "),
        ),
        encoding="utf-8",
    )
    out = tmp_path / "report.html"
    result = CliRunner().invoke(
        app, ["rules", "backtest", "--candidate", str(candidate), "--claims", str(history), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "5 motor claims" in result.output and "simple→complex 1" in result.output
    assert out.exists() and json.loads(out.with_suffix(".json").read_text())["changed"]["route"] == 1


def test_a_backtest_evaluates_only_its_own_line_and_names_the_facts_the_input_lacks():
    motor = loads(motor_text_with(), source="motor.yaml")
    history = _history()
    history["product"] = "motor"
    others = pd.DataFrame([{"product": "health", "claimed_amount": "10.00"}] * 3)
    mixed = pd.concat([history, others], ignore_index=True).drop(columns=["risk_band", "documents_received"])
    report = backtest(motor, motor, mixed)
    assert report["claims"] == 5 and report["scope"] == {
        "product_column": True,
        "kept": 5,
        "set_aside": {"health": 3},
    }
    lacking = {f["fact"]: f["treated_as"] for f in report["missing_facts"]}
    assert set(lacking) >= {"risk_band", "documents_received", "similar_claims"}
    assert "every required document counts as missing" in lacking["documents_received"]
    page = to_html(report)
    assert "<h2>Facts the input lacks</h2>" in page and "<td>risk_band</td>" in page
    assert "<h2>Route transitions</h2><table" in page and "set aside (other lines): health: 3" in page


def test_the_backtest_command_says_what_it_set_aside_and_what_the_file_lacks(tmp_path):
    history = _history().drop(columns=["risk_band"])
    history["product"] = ["motor"] * 4 + ["property"]
    path = tmp_path / "history.csv"
    history.to_csv(path, index=False)
    result = CliRunner().invoke(
        app,
        [
            "rules",
            "backtest",
            "--candidate",
            "motor",
            "--claims",
            str(path),
            "--out",
            str(tmp_path / "r.html"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "set aside 1 rows of other lines (property 1)" in result.output
    assert "input lacks risk_band" in result.output and "4 motor claims" in result.output
    assert "baseline: motor 2026.12.9 (the shipped file)" in result.output
