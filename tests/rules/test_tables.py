import shutil

import pytest
import yaml

from rules.rulebook import RULEBOOK_DIR, shipped
from rules.testing import run_table, table_path


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.stem)
def test_shipped_table_passes_and_covers_every_rule(path):
    result = run_table(table_path(path))
    failures = {c.name: c.failures for c in result.cases if not c.passed}
    assert failures == {}
    assert result.unfired == []
    assert len(result.cases) >= 15
    assert result.passed


def test_a_wrong_expectation_fails_with_a_readable_message(tmp_path):
    shutil.copy(RULEBOOK_DIR / "motor.yaml", tmp_path / "motor.yaml")
    table = yaml.safe_load((RULEBOOK_DIR / "motor.tests.yaml").read_text(encoding="utf-8"))
    table["cases"] = [
        {"name": "wrong amount", "expect": {"payable_amount": "3499.99", "route": "major"}},
        {"name": "wrong reasons", "expect": {"reasons": ["PERIL_COVERED"]}},
        {"name": "expects refusal", "expect": {"error_fields": ["peril"]}},
    ]
    (tmp_path / "motor.tests.yaml").write_text(yaml.safe_dump(table), encoding="utf-8")
    result = run_table(tmp_path / "motor.tests.yaml")
    assert not result.passed
    by_name = {c.name: c.failures for c in result.cases}
    assert by_name["wrong amount"] == [
        "route: expected major, got simple",
        "payable_amount: expected 3499.99, got 3500.00",
    ]
    assert by_name["wrong reasons"] == [
        "reasons: expected ['PERIL_COVERED'], got ['PERIL_COVERED', 'SIMPLE_CLAIM']"
    ]
    assert by_name["expects refusal"] == ["expected the facts refused on ['peril']"]
    assert "MOT-EXC-003" in result.unfired
