"""Working-day SLA clocks on China's 2026 calendar (holidays library, make-up days included)."""

import datetime as dt

import pytest
from pydantic import ValidationError

from service.config import Settings
from service.sla import Calendar, Change, clocks

CN = Calendar("CN")
DAYS = {"document_request": 1, "review": 10, "decision": 5, "payment": 3}


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


def by_stage(result):
    return {c.stage: c for c in result}


def test_spring_festival_week_is_not_counted():
    # 2026: Feb 15-23 off (Spring Festival), Sat Feb 14 and Sat Feb 28 are make-up working days.
    assert not CN.is_working_day(dt.date(2026, 2, 17))
    assert not CN.is_working_day(dt.date(2026, 2, 23))
    assert CN.is_working_day(dt.date(2026, 2, 14))
    # approved Friday Feb 13; 3 working days to pay: Sat 14 (make-up), Tue 24, Wed 25
    assert CN.add(dt.date(2026, 2, 13), 3) == dt.date(2026, 2, 25)
    approved_13 = [
        Change(at("2026-02-02"), "reported"),
        Change(at("2026-02-02", 11), "under_review"),
        Change(at("2026-02-13"), "approved"),
    ]
    payment = by_stage(clocks(approved_13, [at("2026-02-12")], DAYS, CN, at("2026-02-24")))["payment"]
    assert (payment.due, payment.used, payment.left, payment.breached) == (dt.date(2026, 2, 25), 2, 1, False)
    late = by_stage(clocks(approved_13, [at("2026-02-12")], DAYS, CN, at("2026-02-26")))["payment"]
    assert late.breached and late.used == 4


def test_a_make_up_saturday_is_a_working_day():
    assert dt.date(2026, 2, 28).weekday() == 5
    assert CN.add(dt.date(2026, 2, 27), 1) == dt.date(2026, 2, 28)
    assert CN.count(dt.date(2026, 2, 27), dt.date(2026, 3, 2)) == 2  # Sat 28 (make-up) and Mon 2
    assert not CN.is_working_day(dt.date(2026, 3, 7))  # an ordinary Saturday


def test_the_review_clock_pauses_while_documents_are_outstanding_across_the_holiday():
    changes = [
        Change(at("2026-02-06"), "reported"),
        Change(at("2026-02-06", 11), "documents_pending"),
        Change(at("2026-02-09"), "under_review"),  # documents complete: review starts
        Change(at("2026-02-12"), "documents_pending"),  # a document rejected: clock paused
        Change(at("2026-02-25"), "under_review"),  # resent after the holiday: resumes
    ]
    review = by_stage(clocks(changes, [at("2026-02-27")], DAYS, CN, at("2026-02-27", 15)))["review"]
    # active: (Feb 9, Feb 12] = 10, 11, 12 and (Feb 25, Feb 27] = 26, 27
    assert review.state == "done" and review.used == 5 and review.left == 5
    # paused working days (13, 14 make-up, 24, 25) push the due date out by four
    assert review.due == CN.add(dt.date(2026, 2, 9), 10 + 4)
    paused = by_stage(clocks(changes[:4], [], DAYS, CN, at("2026-02-26")))["review"]
    assert paused.state == "paused" and paused.used == 3


def test_reroute_recomputes_deadlines_with_the_new_tier():
    changes = [Change(at("2026-03-02"), "reported"), Change(at("2026-03-02", 11), "under_review")]
    simple = {"document_request": 1, "review": 2, "decision": 1, "payment": 3}
    now = at("2026-03-06")
    assert by_stage(clocks(changes, [], simple, CN, now))["review"].breached
    assert not by_stage(clocks(changes, [], DAYS, CN, now))["review"].breached


def test_extra_closure_days_are_configurable():
    typhoon = Calendar("CN", frozenset({dt.date(2026, 9, 15)}))
    assert CN.add(dt.date(2026, 9, 14), 1) == dt.date(2026, 9, 15)
    assert typhoon.add(dt.date(2026, 9, 14), 1) == dt.date(2026, 9, 16)


@pytest.mark.parametrize(("country", "expected"), [("CN", 21), ("HK", 26)])
def test_other_countries_use_their_own_calendar(country, expected):
    # CN: Jan 2 is a day off, Sunday Jan 4 a make-up working day; HK works Saturdays.
    assert Calendar(country).count(dt.date(2026, 1, 1), dt.date(2026, 1, 31)) == expected


def test_settings_build_the_calendar_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLAIMS_SLA_COUNTRY", "HK")
    monkeypatch.setenv("CLAIMS_SLA_CLOSURES", "2026-09-15, 2026-09-16,")
    assert Settings().calendar == Calendar("HK", frozenset({dt.date(2026, 9, 15), dt.date(2026, 9, 16)}))


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("CLAIMS_SLA_COUNTRY", "XX", "no holiday calendar for 'XX'"),
        ("CLAIMS_SLA_CLOSURES", "2026-09-15,2026-13-01", "closure day '2026-13-01' is not a date"),
    ],
)
def test_a_calendar_that_cannot_be_built_is_refused_at_start_up(monkeypatch, variable, value, message):
    # Refused when the settings load, not as a server error on the first claim shown.
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert refused.value.errors()[0]["loc"] == (variable.removeprefix("CLAIMS_").lower(),)
    assert message in str(refused.value)


def test_the_service_refuses_to_start_on_a_calendar_it_cannot_build(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from service.cli import app as cli
    from service.config import get_settings

    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CLAIMS_SLA_COUNTRY", "XX")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "CLAIMS_SLA_COUNTRY: no holiday calendar for 'XX'" in result.output
    assert not (tmp_path / "claims.db").exists()  # stopped before anything was opened
