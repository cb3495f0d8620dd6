import json
from pathlib import Path

from typer.testing import CliRunner

from service.cli import app
from tests.rules.conftest import motor_text_with

runner = CliRunner()


def test_validate_reports_every_problem_with_positions(tmp_path):
    bad = tmp_path / "motor.yaml"
    bad.write_text(
        motor_text_with(
            ("when: driver_intoxicated\n", "when: driver_drunk\n"),
            ("when: catastrophe_event\n", "when: catastrophe_event and (\n"),
        ),
        encoding="utf-8",
    )
    result = runner.invoke(app, ["rules", "validate", str(bad)])
    assert result.exit_code == 1
    assert "2 problem(s)" in result.output
    assert "rule MOT-EXC-003: when: unknown fact 'driver_drunk'" in result.output
    assert "rule MOT-RTE-005: when: syntax error" in result.output


def test_validate_accepts_the_shipped_rulebooks():
    result = runner.invoke(app, ["rules", "validate", "motor", "health", "property"])
    assert result.exit_code == 0, result.output
    assert result.output.count("✓") == 3


def test_test_command_runs_every_shipped_table():
    result = runner.invoke(app, ["rules", "test"])
    assert result.exit_code == 0, result.output
    assert "motor.tests.yaml: 34/34 cases passed" in result.output


def test_explain_prints_reasons_and_json(tmp_path):
    result = runner.invoke(app, ["rules", "explain", "motor", "--facts", "examples/motor_claim.json"])
    assert result.exit_code == 0, result.output
    assert "FAULT_SHARE_MAJOR" in result.output and "accident_certificate" in result.output
    as_json = runner.invoke(
        app, ["rules", "explain", "motor", "--facts", "examples/motor_claim.json", "--json"]
    )
    data = json.loads(as_json.output)
    assert data["coverage"] == "pending_documents"
    assert data["payable_amount"] == "4410.00"


def test_explain_names_bad_fields(tmp_path):
    facts = json.loads(Path("examples/motor_claim.json").read_text(encoding="utf-8"))
    facts["peril"] = "comet"
    path = tmp_path / "claim.json"
    path.write_text(json.dumps(facts), encoding="utf-8")
    result = runner.invoke(app, ["rules", "explain", "motor", "--facts", str(path)])
    assert result.exit_code == 1
    assert "peril" in result.output and "'comet' is not one of" in result.output


def test_compile_prints_the_durable_rules_ruleset():
    result = runner.invoke(app, ["rules", "compile", "health"])
    ruleset = json.loads(result.output)
    assert ruleset["end_claim"]["all"] == [{"m": {"t": "claim"}}]
    assert len([k for k in ruleset if k.startswith("r")]) == 18


def test_explain_answers_a_missing_or_broken_facts_file_in_one_line(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    for path, expected in ((tmp_path / "none.json", "does not exist"), (broken, "is not JSON")):
        result = runner.invoke(app, ["rules", "explain", "motor", "--facts", str(path)])
        assert result.exit_code == 2 and expected in result.output, result.output
        assert "Traceback" not in result.output
