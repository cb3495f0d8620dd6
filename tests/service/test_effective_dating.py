"""Effective dating: a claim is decided by the version in force at its report date, unless a
re-adjudication names another; activations can be scheduled and rolled back."""

import datetime as dt

from service.rulebooks.schedule import SINCE_EVER, Entry, in_force, periods, status
from tests.service.test_rulebooks import CANDIDATE, TESTS

TODAY = dt.date.today()
OLD, NEW = "motor@2026.12.9", "motor@2026.12.1"
LATER = CANDIDATE.replace('version: "2026.12.1"', 'version: "2027.1.1"').replace(
    "  late_report_days: 5 ", "  late_report_days: 6 "
)


def _day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def test_a_later_activation_supersedes_from_its_own_date_on():
    plan = [Entry(1, 10, SINCE_EVER), Entry(2, 20, _day(30)), Entry(3, 30, _day(5))]
    assert in_force(plan, _day(-400)).version_id == 10
    assert in_force(plan, _day(4)).version_id == 10
    assert in_force(plan, _day(5)).version_id == 30
    assert in_force(plan, _day(60)).version_id == 30  # activation 3 came later: 2 never takes effect
    assert periods(plan) == {10: [(None, _day(5))], 30: [(_day(5), None)]}
    assert status(20, "approved", plan, False, TODAY) == "approved"
    assert status(30, "approved", plan, False, TODAY) == "scheduled"
    assert status(10, "approved", plan, True, TODAY) == "active"
    assert in_force([], TODAY) is None


def _approved(flow, text: str, version: str) -> str:
    flow.call("analyst", "POST", "/v1/rulebooks", {"text": text, "tests": TESTS}, expect=201)
    path = f"/v1/rulebooks/motor/versions/{version}"
    flow.call("analyst2", "POST", f"{path}/approve")
    return path


def _late_claim(flow, reported: dt.date) -> dict:
    incident = dt.datetime.combine(reported - dt.timedelta(days=1), dt.time(9))
    return flow.report(incident_at=incident.isoformat(), report_date=reported.isoformat())


def test_claims_keep_the_rules_of_their_report_date(flow):
    path = _approved(flow, CANDIDATE, "2026.12.1")
    activated = flow.call("analyst", "POST", f"{path}/activate", {"effective_from": TODAY.isoformat()})
    assert activated["status"] == "active" and activated["in_force"] == [
        {"from": TODAY.isoformat(), "to": None}
    ]
    assert flow.report()["rulebook"] == NEW
    late = _late_claim(flow, _day(-3))  # reported three days ago, loaded today
    assert late["rulebook"] == OLD
    number = late["claim_number"]
    records = flow.call("analyst", "GET", f"/v1/claims/{number}/decisions")
    assert records[1]["rulebook_version"] == "2026.12.9"
    # Re-adjudication without a version: still the version of its report date.
    again = flow.call("specialist", "POST", f"/v1/claims/{number}/adjudicate")
    assert again["rulebook"] == OLD
    listed = {v["version"]: v for v in flow.call("risk_team", "GET", "/v1/rulebooks") if v["name"] == "motor"}
    assert listed["2026.12.9"]["in_force"] == [{"from": None, "to": TODAY.isoformat()}]
    assert listed["2026.12.9"]["status"] == "retired" and listed["2026.12.1"]["status"] == "active"


def test_a_senior_reviewer_may_name_another_approved_version(flow):
    path = _approved(flow, CANDIDATE, "2026.12.1")
    late = _late_claim(flow, _day(-2))
    number = late["claim_number"]
    url = f"/v1/claims/{number}/adjudicate"
    named = {"rulebook_version": "2026.12.1", "reason": "customer-friendly: new threshold applies"}
    assert flow.call("specialist", "POST", url, named, expect=403)["role"] == "specialist"
    assert flow.call("senior_reviewer", "POST", url, {"rulebook_version": "2026.12.1"}, expect=422)
    missing = {**named, "rulebook_version": "2030.1.1"}
    assert flow.call("senior_reviewer", "POST", url, missing, expect=404)["field"] == "rulebook_version"
    flow.call("analyst", "POST", "/v1/rulebooks", {"text": LATER, "tests": TESTS}, expect=201)
    draft = {**named, "rulebook_version": "2027.1.1"}
    assert flow.call("senior_reviewer", "POST", url, draft, expect=409)["state"] == "draft"
    assert flow.call("analyst", "GET", url.replace("/adjudicate", ""))["rulebook"] == OLD  # nothing changed

    claim = flow.call("senior_reviewer", "POST", url, named)
    assert claim["rulebook"] == NEW  # approved, never activated, named with a reason
    record = flow.call("analyst", "GET", f"/v1/claims/{number}/decisions")[-1]
    assert record["rulebook_version"] == "2026.12.1"
    assert record["outcome"]["rulebook_named"] == {
        "version": "2026.12.1",
        "by": "wang.fang",
        "reason": "customer-friendly: new threshold applies",
    }
    # The named version keeps deciding when documents arrive; a plain re-adjudication returns the
    # claim to the version of its report date.
    assert flow.send_documents(claim)["rulebook"] == NEW
    assert flow.call("specialist", "POST", url)["rulebook"] == OLD
    assert path  # the candidate stayed approved, never active


def test_an_activation_can_be_scheduled_and_revoked(flow):
    path = _approved(flow, CANDIDATE, "2026.12.1")
    past = flow.call(
        "analyst", "POST", f"{path}/activate", {"effective_from": _day(-1).isoformat()}, expect=422
    )
    assert past["field"] == "effective_from"
    scheduled = flow.call("analyst", "POST", f"{path}/activate", {"effective_from": _day(10).isoformat()})
    assert scheduled["status"] == "scheduled" and scheduled["replaced"] == "2026.12.9"
    assert scheduled["in_force"] == [{"from": _day(10).isoformat(), "to": None}]
    assert flow.report()["rulebook"] == OLD  # not yet
    again = flow.call(
        "analyst", "POST", f"{path}/activate", {"effective_from": _day(12).isoformat()}, expect=409
    )
    assert again["state"] == "active"

    back = flow.call("analyst", "POST", "/v1/rulebooks/motor/rollback")
    assert back["version"] == "2026.12.9" and back["in_force"] == [{"from": None, "to": None}]
    # Without a date, the version takes over from the date its text declares.
    declared = _day(20).isoformat()
    path = _approved(
        flow, LATER.replace("effective_from: 2026-01-01", f"effective_from: {declared}"), "2027.1.1"
    )
    assert flow.call("analyst", "POST", f"{path}/activate")["in_force"] == [{"from": declared, "to": None}]
    flow.call("analyst", "POST", "/v1/rulebooks/motor/rollback")
    listed = {v["version"]: v["status"] for v in flow.call("risk_team", "GET", "/v1/rulebooks")}
    assert listed["2026.12.1"] == "approved"  # revoked before it took effect: never in force
    problem = flow.call("analyst", "POST", "/v1/rulebooks/motor/rollback", expect=409)
    assert "no earlier activation" in problem["detail"]
