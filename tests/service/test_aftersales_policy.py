"""The after-sales policy file: checked whole, and the clock of minutes within service hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from service import aftersales
from service.config import Settings
from service.sla import Calendar

ZONE = ZoneInfo("Asia/Shanghai")
CN = Calendar("CN").load()
POLICY = aftersales.load()


def _at(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=ZONE)


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ((2026, 12, 2, 10, 0), (2026, 12, 2, 10, 30)),  # a working morning
        ((2026, 12, 2, 17, 15), (2026, 12, 3, 9, 15)),  # 15 minutes today, 15 tomorrow
        ((2026, 12, 4, 17, 55), (2026, 12, 7, 9, 30)),  # Friday after hours: Monday
        # Before National Day: the week off is skipped.
        ((2026, 9, 30, 17, 55), (2026, 10, 8, 9, 30)),
    ],
)
def test_a_complaint_first_response_counts_only_service_minutes(received, due):
    found = aftersales.service_minutes_later(_at(*received), 30, CN, POLICY.service_hours, ZONE)
    assert found == _at(*due).astimezone(dt.UTC)


def test_a_reminder_five_working_days_before_a_deadline_after_national_day_steps_over_the_week():
    # Back from Monday 12 October: Saturday 10th (a make-up working day), 9th, 8th, then over
    # the week off to 30 and 29 September.
    assert POLICY.reminder_day(dt.date(2026, 10, 12), CN) == dt.date(2026, 9, 29)


def test_a_template_with_a_placeholder_its_event_lacks_is_refused_naming_it(tmp_path):
    broken = aftersales.SHIPPED.read_text(encoding="utf-8").replace("{reference}", "{iban}")
    path = tmp_path / "aftersales.yaml"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(aftersales.AftersalesError) as refused:
        aftersales.load(path)
    assert "messages.payment.body.zh-CN: unknown placeholders ['iban']" in str(refused.value)
    with pytest.raises(ValidationError, match="aftersales_file"):
        Settings(aftersales_file=path)


def test_every_event_has_both_languages_and_renders():
    for event, names in aftersales.EVENTS.items():
        for lang in aftersales.LANGS:
            subject, body = POLICY.render(event, lang, {n: f"<{n}>" for n in names})
            assert subject and "{" not in body


def test_a_policy_whose_test_table_fails_is_refused_naming_the_case(tmp_path):
    changed = aftersales.SHIPPED.read_text(encoding="utf-8").replace(
        "first_response_minutes: 30", "first_response_minutes: 60"
    )
    (tmp_path / "aftersales.yaml").write_text(changed, encoding="utf-8")
    table = aftersales.SHIPPED.with_name("aftersales.tests.yaml").read_text(encoding="utf-8")
    (tmp_path / "aftersales.tests.yaml").write_text(table, encoding="utf-8")
    with pytest.raises(aftersales.AftersalesError) as refused:
        aftersales.load(tmp_path / "aftersales.yaml")
    assert "first_response.0: due 2026-12-02T11:00:00+08:00, the table says 2026-12-02T10:30:00+08:00" in str(
        refused.value
    )
