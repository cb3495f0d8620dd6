import hashlib

import pytest

from rules.rulebook import RULEBOOK_DIR, RulebookError, load, loads, shipped
from tests.rules.conftest import MOTOR_TEXT, motor_text_with


def problems_of(text):
    with pytest.raises(RulebookError) as err:
        loads(text, source="motor.yaml")
    return [str(p) for p in err.value.problems]


def line_of(text, needle):
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_shipped_rulebooks_load_with_their_hash():
    names = {load(p).name for p in shipped()}
    assert names == {"motor", "health", "property"}
    motor = load(RULEBOOK_DIR / "motor.yaml")
    assert motor.sha256 == hashlib.sha256(MOTOR_TEXT.encode()).hexdigest()
    assert motor.version == "2026.12.9"
    assert motor.params["sla"]["simple"]["review"] == 2


def test_unknown_fact_is_refused_with_file_line_column_and_rule():
    text = motor_text_with(("when: driver_intoxicated\n", "when: driver_drunk\n"))
    line = line_of(text, "when: driver_drunk")
    assert problems_of(text) == [f"motor.yaml:{line}:11: rule MOT-EXC-003: when: unknown fact 'driver_drunk'"]


def test_bad_syntax_is_refused_with_its_position():
    text = motor_text_with(("when: catastrophe_event\n", "when: catastrophe_event and (\n"))
    line = line_of(text, "when: catastrophe_event and (")
    [problem] = problems_of(text)
    assert problem.startswith(f"motor.yaml:{line}:")
    assert "rule MOT-RTE-005: when: syntax error" in problem


def test_type_mismatch_is_refused():
    text = motor_text_with(("when: fatalities > 0\n    then", "when: fatalities > 'none'\n    then"))
    [problem] = problems_of(text)
    assert "rule MOT-RTE-004: when: cannot compare a number with a string" in problem


def test_position_inside_a_folded_block_points_at_the_token():
    text = motor_text_with(
        ("documents_complete and risk_band == 'low'", "documents_complete and risk_band == 'lo'")
    )
    line = line_of(text, "risk_band == 'lo'")
    column = text.splitlines()[line - 1].index("'lo'") + 1
    assert problems_of(text) == [
        f"motor.yaml:{line}:{column}: rule MOT-RTE-001: when: 'lo' is not an allowed value of 'risk_band'"
    ]


def test_every_problem_is_reported_at_once():
    text = motor_text_with(
        ("when: driver_intoxicated\n", "when: driver_drunk\n"),
        ("when: fatalities > 0\n    then", "when: fatalities > 'none'\n    then"),
        ("  late_report_days: 3 ", "  late_report_days: x "),
        ("when: catastrophe_event\n", "when: catastrophe_event and peril == 'comet'\n"),
    )
    found = problems_of(text)
    assert len(found) == 4
    assert any("MOT-RTE-006" in p and "cannot compare" in p for p in found)
    assert any("'comet' is not an allowed value of 'peril'" in p for p in found)


def test_structure_errors_name_the_field_and_line():
    text = motor_text_with(
        (
            "    category: routing\n    when: fatalities > 0\n",
            "    category: route\n    when: fatalities > 0\n",
        )
    )
    [problem] = problems_of(text)
    assert "rule MOT-RTE-004: category: Input should be" in problem
    assert f"motor.yaml:{line_of(text, 'category: route')}:" in problem


def test_unknown_key_in_a_rule_is_refused():
    text = motor_text_with(("    code: FATALITY\n", "    code: FATALITY\n    severity: high\n"))
    [problem] = problems_of(text)
    assert "severity" in problem and "Extra inputs are not permitted" in problem


def test_advisory_risk_fact_can_never_deny():
    text = motor_text_with(("then: {route: complex, investigate: true}", "then: {coverage: not_covered}"))
    [problem] = problems_of(text)
    assert "MOT-RSK-001" in problem and "advisory fact 'risk_band'" in problem


def test_outcome_facts_and_sla_params_are_required():
    text = motor_text_with(
        ("  deductible: {type: money, unit: CNY, min: 0}\n", ""),
        (
            "    simple:  {document_request: 1, review: 2, decision: 1, payment: 3}",
            "    simple:  {document_request: 1, review: 0, decision: 1, payment: 3}",
        ),
    )
    found = problems_of(text)
    assert any("fact deductible: must be declared, required, as money" in p for p in found)
    assert any("params.sla.simple.review: must be a positive whole number" in p for p in found)


def test_coverage_ratio_must_resolve_within_zero_and_one():
    text = motor_text_with(
        ("    major: 0.7\n", "    major: 1.7\n"),
        ("params.fault_ratio.minor}", "params.fault_ratio.tiny}"),
    )
    found = problems_of(text)
    assert any("MOT-PAY-001" in p and "coverage_ratio must be in (0, 1]" in p for p in found)
    assert any("MOT-PAY-003" in p and "unknown 'params.fault_ratio.tiny'" in p for p in found)


def test_rule_that_can_never_fire_is_refused():
    text = motor_text_with(
        (
            "when: fatalities > 0\n    then",
            "when: params.major_min_amount < 0 and fatalities > 0\n    then",
        )
    )
    [problem] = problems_of(text)
    assert "can never be true" in problem


def test_duplicate_rule_ids_and_unknown_message_placeholders():
    text = motor_text_with(
        ("id: MOT-EXC-005", "id: MOT-EXC-004"),
        ('internal: "fatalities: {fatalities}"', 'internal: "deaths: {deaths}"'),
    )
    found = problems_of(text)
    assert any("rule MOT-EXC-004: rule id used twice" in p for p in found)
    assert any("unknown fact {deaths}" in p for p in found)


def test_yaml_error_is_reported_with_its_line():
    found = problems_of("name: motor\nrules: [\n")
    assert found[0].startswith("motor.yaml:3:")


def test_documents_received_allows_only_checklist_codes(motor):
    assert set(motor.facts["documents_received"].allowed) == {d.spec.code for d in motor.documents}
