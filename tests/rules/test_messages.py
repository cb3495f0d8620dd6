"""Messages that follow params: rendered from the version's values, checked when the file loads."""

import pytest

from rules.engine import RulesEngine
from rules.messages import literal_params, render_params
from rules.rulebook import RULEBOOK_DIR, RulebookError, loads

MOTOR = (RULEBOOK_DIR / "motor.yaml").read_text(encoding="utf-8")
EQUAL_FAULT = {
    "policy_start": "2026-01-01",
    "policy_end": "2026-12-31",
    "incident_date": "2026-06-10",
    "report_date": "2026-06-11",
    "peril": "collision",
    "claimed_amount": "4000.00",
    "deductible": "500.00",
    "sum_insured_remaining": "200000.00",
    "theft_cover": False,
    "injuries": 0,
    "fatalities": 0,
    "third_party": True,
    "fault_share": "equal",
    "police_report": False,
    "driver_intoxicated": False,
    "driver_licensed": True,
    "intentional_loss": False,
    "catastrophe_event": False,
    "prior_claims_12m": 0,
    "documents_received": [],
}


def _equal_fault_texts(text: str) -> tuple[str, dict]:
    with RulesEngine(loads(text, source="motor.yaml")) as engine:
        result = engine.evaluate(EQUAL_FAULT)
    reason = next(r for r in result.reasons if r.code == "FAULT_SHARE_EQUAL")
    return str(result.payable_amount), reason.customer


def test_a_changed_ratio_changes_the_amount_and_the_customer_text_together():
    assert _equal_fault_texts(MOTOR) == (
        "1750.00",
        {
            "zh-CN": "根据事故责任认定，双方同等责任，按50%比例赔付。",
            "en": "The accident certificate shares liability equally, so 50% is payable.",
        },
    )
    tuned = MOTOR.replace("    equal: 0.5\n", "    equal: 0.6\n")
    amount, customer = _equal_fault_texts(tuned)
    assert amount == "2100.00"
    assert "按60%比例赔付" in customer["zh-CN"] and "so 60% is payable" in customer["en"]


def test_an_unknown_param_in_a_message_is_refused_with_its_place():
    broken = MOTOR.replace(
        "{params.fault_ratio.equal:percent} is payable", "{params.fault_ratio.half:percent} is payable"
    )
    with pytest.raises(RulebookError) as caught:
        loads(broken, source="motor.yaml")
    (problem,) = caught.value.problems
    assert "unknown param {params.fault_ratio.half}" in problem.message and problem.line > 1


def test_a_literal_number_that_is_a_param_is_a_warning():
    spelled = MOTOR.replace("{params.fault_ratio.equal:percent} is payable", "50% is payable")
    book = loads(spelled, source="motor.yaml")
    assert any("50% is params.fault_ratio.equal" in w.message for w in book.warnings)
    assert loads(MOTOR, source="motor.yaml").warnings == ()


def test_rendering_keeps_fact_placeholders_and_formats():
    params = {"ratio": 0.25, "days": 30, "cap": 12500}
    text = "{incident_date}: {params.ratio:percent} after {params.days} days, at most {params.cap:,} {{CNY}}"
    assert render_params(text, params) == "{incident_date}: 25% after 30 days, at most 12,500 {{CNY}}"
    assert literal_params("wait 30 days, 25 % off", params) == ["30 is params.days", "25 % is params.ratio"]
