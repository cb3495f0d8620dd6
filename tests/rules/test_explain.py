import yaml

from rules.explain import explain
from rules.rulebook import RULEBOOK_DIR

BASE = yaml.safe_load((RULEBOOK_DIR / "motor.tests.yaml").read_text(encoding="utf-8"))["base"]


def test_why_not_names_the_failed_condition_and_its_values(motor):
    rows = {r["rule_id"]: r for r in explain(motor, {**BASE, "claimed_amount": "12000.00"})}
    assert rows["MOT-COV-001"]["fired"] and "failed" not in rows["MOT-COV-001"]
    simple = rows["MOT-RTE-001"]
    assert not simple["fired"]
    assert simple["failed"] == "claimed_amount <= params.simple_max_amount"
    assert simple["facts"] == {"claimed_amount": 12000.0}
    late = rows["MOT-RTE-006"]
    assert (
        late["failed"] == "(days_between(incident_date, report_date) - 3) > 0"
        or "days_between" in late["failed"]
    )
    assert late["facts"] == {"incident_date": "2026-06-10", "report_date": "2026-06-11"}


def test_an_absent_optional_fact_is_named(motor):
    raw = {k: v for k, v in BASE.items() if k != "risk_band"}
    rows = {r["rule_id"]: r for r in explain(motor, raw)}
    assert rows["MOT-RSK-001"]["absent"] == ["risk_band"]
    assert rows["MOT-RTE-001"]["failed"] == "risk_band == 'low'"


def test_every_fired_rule_matches_the_engine(motor_engine, motor):
    for change in ({}, {"driver_intoxicated": True}, {"risk_band": "high", "injuries": 1}):
        raw = {**BASE, **change}
        fired = {r["rule_id"] for r in explain(motor, raw) if r["fired"]}
        assert fired == set(motor_engine.evaluate(raw).rules_fired)
