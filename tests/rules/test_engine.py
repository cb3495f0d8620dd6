import json
import threading
from decimal import Decimal

import pytest
import yaml

from rules import facts as fact_io
from rules import reference, samples
from rules.engine import EngineError, RulesEngine, compile_rulebook
from rules.facts import InvalidFacts
from rules.rulebook import RULEBOOK_DIR, loads
from rules.testing import Table
from tests.rules.conftest import motor_text_with

BASE = Table.model_validate(
    yaml.safe_load((RULEBOOK_DIR / "motor.tests.yaml").read_text(encoding="utf-8"))
).base


def test_clean_claim_is_adjudicated_with_reasons_and_rulebook_identity(motor_engine, motor):
    result = motor_engine.evaluate(BASE)
    assert result.coverage == "covered"
    assert result.payable_amount == Decimal("3500.00")
    assert result.route == "simple"
    assert result.rules_fired == ("MOT-COV-001", "MOT-RTE-001")
    assert (result.rulebook, result.rulebook_version, result.rulebook_sha256) == (
        "motor",
        "2026.12.9",
        motor.sha256,
    )
    covered = result.reasons[0]
    assert covered.code == "PERIL_COVERED" and covered.category == "coverage"
    assert covered.effect == {"coverage": "covered"}
    assert covered.facts == {
        "incident_date": "2026-06-10",
        "policy_start": "2026-01-01",
        "policy_end": "2026-12-31",
        "peril": "single_vehicle",
    }
    assert covered.customer["zh-CN"].startswith("事故发生在保险期间内")
    assert covered.customer["en"].startswith("The loss happened")
    assert json.loads(json.dumps(result.to_dict()))["payable_amount"] == "3500.00"


def test_denial_carries_its_standard_code(motor_engine):
    result = motor_engine.evaluate({**BASE, "driver_intoxicated": True})
    denial = next(r for r in result.reasons if r.code == "DRUNK_DRIVING")
    assert denial.standard == {"carc": "96", "group": "CO"}


def test_bad_facts_are_refused_naming_every_field(motor_engine):
    raw = {**BASE, "peril": "comet", "injuries": "two", "mood": "sad"}
    del raw["deductible"]
    with pytest.raises(InvalidFacts) as err:
        motor_engine.evaluate(raw)
    assert {(p.field, p.message) for p in err.value.problems} == {
        ("mood", "not a fact this rulebook declares"),
        ("deductible", "required fact is missing"),
        (
            "peril",
            "'comet' is not one of ['collision', 'single_vehicle', 'theft', 'fire', "
            "'flood', 'glass', 'vandalism']",
        ),
        ("injuries", "expected a whole number"),
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("incident_date", "2026-02-30", "is not a date"),
        ("claimed_amount", "12.345", "at most two decimals"),
        ("claimed_amount", "0.00", "must be at least 0.01"),
        ("third_party", "yes", "expected true or false"),
        ("documents_received", ["claim_form", "selfie"], "'selfie' is not one of"),
    ],
)
def test_each_bad_value_gets_a_precise_message(motor_engine, field, value, message):
    with pytest.raises(InvalidFacts) as err:
        motor_engine.evaluate({**BASE, field: value})
    [problem] = err.value.problems
    assert problem.field == field and message in problem.message


def test_optional_conditions_are_guarded_in_the_compiled_ruleset(motor):
    compiled = compile_rulebook(motor)
    high_risk = compiled[f"r{[r.id for r in motor.rules].index('MOT-RSK-001')}"]
    assert high_risk["all"][0]["m"] == {
        "$and": [{"t": "claim"}, {"$and": [{"$ex": {"risk_band": 1}}, {"risk_band": "high"}]}]
    }
    assert compiled["end_claim"]["pri"] > max(
        v.get("pri", 0) for k, v in compiled.items() if k.startswith("r")
    )


@pytest.mark.parametrize("name", ["motor", "health", "property"])
def test_engine_agrees_with_the_reference_evaluator(books, name):
    book = books[name]
    seen: set[str] = set()
    with RulesEngine(book) as engine:
        for raw in samples.generate(book, 3000, seed=11):
            encoded = fact_io.encode(book.facts, fact_io.check(book.facts, raw))
            fired = engine.fire(encoded)
            assert fired == reference.fire(book, encoded), raw
            seen.update(fired[0])
    assert seen == {r.id for r in book.rules}


def test_sessions_are_deleted_so_the_engine_never_reaches_its_session_limit(motor):
    # durable-rules holds at most 1,024 live sessions per ruleset.
    with RulesEngine(motor) as engine:
        results = {engine.evaluate(BASE).payable_amount for _ in range(2500)}
    assert results == {Decimal("3500.00")}


def test_concurrent_threads_get_the_same_answers_as_one_thread(motor):
    claims = list(samples.generate(motor, 150, seed=3))
    with RulesEngine(motor) as engine:
        expected = [engine.evaluate(c).to_dict() for c in claims]
        got: dict[int, list] = {}

        def work(worker: int) -> None:
            got[worker] = [engine.evaluate(c).to_dict() for c in claims]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(got) == 16
    assert all(results == expected for results in got.values())


def test_a_rule_with_or_fires_once_even_when_both_branches_hold(motor_engine):
    result = motor_engine.evaluate(
        {
            **BASE,
            "injuries": 2,
            "claimed_amount": "20000.00",
            "documents_received": [*BASE["documents_received"], "medical_records"],
        }
    )
    assert result.rules_fired.count("MOT-RTE-002") == 1
    assert result.reason_codes.count("COMPLEX_CLAIM") == 1


def test_a_claim_no_coverage_rule_matches_is_referred_not_crashed():
    text = motor_text_with(("'fire', 'flood', 'glass', 'vandalism']", "'fire', 'flood', 'vandalism']"))
    book = loads(text, source="gap.yaml")
    with RulesEngine(book) as engine:
        result = engine.evaluate({**BASE, "peril": "glass"})
    assert result.coverage == "undetermined"
    assert result.review is True
    assert result.route == "complex"
    assert "NO_COVERAGE_DECISION" in result.reason_codes


def test_two_versions_of_one_rulebook_live_side_by_side(motor):
    text = motor_text_with(
        ('version: "2026.12.9"', 'version: "2026.12.1"'),
        ("  simple_max_amount: 10000 ", "  simple_max_amount: 3000 "),
    )
    candidate = loads(text, source="motor.yaml")
    with RulesEngine(motor) as old, RulesEngine(candidate) as new, RulesEngine(motor) as again:
        assert old.evaluate(BASE).route == "simple"
        assert new.evaluate(BASE).route == "complex"
        assert again.evaluate(BASE).route == "simple"


def test_a_closed_engine_refuses_to_evaluate(motor):
    engine = RulesEngine(motor)
    engine.close()
    engine.close()
    with pytest.raises(EngineError):
        engine.evaluate(BASE)


def test_the_same_facts_always_give_the_same_adjudication(motor_engine):
    claims = list(samples.generate(motor_engine.rulebook, 200, seed=5))
    first = [motor_engine.evaluate(c).to_dict() for c in claims]
    assert [motor_engine.evaluate(c).to_dict() for c in claims] == first
