"""Complaints: clocks from the after-sales policy (service minutes, working days), escalation,
one response and one resolution, a complaint on its claim, and the statistics."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import text

from service.complaints import service as complaints
from service.outbox import worker

ZONE = ZoneInfo("Asia/Shanghai")


def _body(**changes) -> dict:
    return {
        "channel": "hotline",
        "customer": "Wang Li",
        "category": "claim_delay",
        "severity": "medium",
        "text": "Nobody called me back about my claim.",
        **changes,
    }


def test_a_complaint_at_1755_before_national_day_is_due_after_the_holiday(client):
    runtime = client.app.state.runtime
    received = dt.datetime(2026, 9, 30, 17, 55, tzinfo=ZONE)
    first, resolution = complaints.clocks(runtime, received, "medium")
    assert first == dt.datetime(2026, 10, 8, 9, 30, tzinfo=ZONE)  # 30 service minutes
    # Five working days after 30 September: 8, 9, 10 (a make-up Saturday), 12, 13 October.
    assert resolution == dt.datetime(2026, 10, 13, 17, 30, tzinfo=ZONE)


def test_a_complaint_is_answered_once_resolved_once_and_shows_on_its_claim(flow):
    claim = flow.report()
    n = claim["claim_number"]
    made = flow.call("claims_system", "POST", "/v1/complaints", _body(claim_number=n), expect=201)
    assert made["status"] == "open" and made["claim_number"] == n
    assert made["first_response"]["met"] is None and made["first_response"]["breached"] is False
    path = f"/v1/complaints/{made['id']}"
    answered = flow.call("senior_reviewer", "POST", f"{path}/response", {"text": "We are on it."})
    assert answered["status"] == "responded" and answered["first_response"]["met"] is True
    again = flow.call("senior_reviewer", "POST", f"{path}/response", {"text": "again"}, expect=409)
    assert again["state"] == "responded"
    body = {"resolution": "Called back, apologised.", "cause": "staff", "upheld": True}
    done = flow.call("senior_reviewer", "POST", f"{path}/resolution", body)
    assert done["status"] == "resolved" and done["upheld"] is True and done["resolution"]["met"] is True
    closed = flow.call("senior_reviewer", "POST", f"{path}/resolution", body, expect=409)
    assert closed["state"] == "resolved"
    assert [c["id"] for c in flow.call("analyst", "GET", f"/v1/complaints?claim_number={n}")] == [made["id"]]
    kinds = [r["kind"] for r in flow.call("analyst", "GET", f"/v1/claims/{n}/decisions")]
    assert "complaint_received" in kinds and "complaint_resolved" in kinds


def test_bad_complaints_are_refused_and_change_nothing(flow):
    before = len(flow.call("analyst", "GET", "/v1/complaints?limit=200"))
    unknown = flow.call("claims_system", "POST", "/v1/complaints", _body(claim_number="CLM-0"), expect=404)
    assert unknown["field"] == "claim_number"
    assert flow.call("claims_system", "POST", "/v1/complaints", _body(severity="urgent"), expect=422)
    assert flow.call("investigator", "POST", "/v1/complaints", _body(), expect=403)["status"] == 403
    assert flow.call("senior_reviewer", "POST", "/v1/complaints/999999/response", {"text": "x"}, expect=404)
    assert len(flow.call("analyst", "GET", "/v1/complaints?limit=200")) == before


def test_an_unanswered_complaint_is_escalated_by_the_worker(client, flow):
    made = flow.call("claims_system", "POST", "/v1/complaints", _body(), expect=201)
    runtime = client.app.state.runtime
    assert worker.run_jobs(runtime, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=30)) >= 1
    assert flow.call("analyst", "GET", f"/v1/complaints/{made['id']}")["escalated"] is True


def test_the_statistics_match_a_hand_count(client, flow):
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        session.execute(text("DELETE FROM jobs WHERE kind = 'complaint_escalation'"))
        session.execute(text("DELETE FROM complaints"))
        session.commit()
    ids = [
        flow.call("claims_system", "POST", "/v1/complaints", _body(**extra), expect=201)["id"]
        for extra in (
            {"category": "payment", "channel": "email"},
            {"category": "payment"},
            {"category": "claim_delay"},
            {"category": "other", "severity": "low"},
        )
    ]
    upheld = {"resolution": "fixed", "cause": "process", "upheld": True}
    flow.call("senior_reviewer", "POST", f"/v1/complaints/{ids[0]}/resolution", upheld)
    flow.call("senior_reviewer", "POST", f"/v1/complaints/{ids[1]}/resolution", {**upheld, "upheld": False})
    with runtime.sessions() as session:  # the third is answered late: after its first-response clock
        session.execute(
            text("UPDATE complaints SET first_response_due = :t WHERE id = :i"),
            {"t": "2000-01-01 00:00:00", "i": ids[2]},
        )
        session.commit()
    flow.call("senior_reviewer", "POST", f"/v1/complaints/{ids[2]}/response", {"text": "sorry for the wait"})
    today = dt.datetime.now(ZONE).date().isoformat()
    stats = flow.call("analyst", "GET", f"/v1/complaints/statistics?from={today}&to={today}")
    assert stats["received"] == 4 and stats["open"] == 2
    assert stats["by"]["category"] == {"claim_delay": 1, "other": 1, "payment": 2}
    assert stats["by"]["channel"] == {"email": 1, "hotline": 3}
    assert stats["first_response_within_sla"] == round(2 / 3, 4)  # 3 answered, 1 late
    assert stats["resolved_within_sla"] == 1.0 and stats["upheld_rate"] == 0.5
    assert flow.call("analyst", "GET", f"/v1/complaints/statistics?from={today}&to=2000-01-01", expect=422)


def test_an_upheld_complaint_and_a_low_rating_open_rectification_items_that_close_once(client, flow):
    claim = flow.report()
    n = claim["claim_number"]
    made = flow.call("claims_system", "POST", "/v1/complaints", _body(claim_number=n), expect=201)
    body = {"resolution": "apologised", "cause": "staff", "upheld": True}
    flow.call("senior_reviewer", "POST", f"/v1/complaints/{made['id']}/resolution", body)
    items = [i for i in flow.call("analyst", "GET", "/v1/rectifications") if i["claim_number"] == n]
    assert len(items) == 1 and items[0]["source"] == "complaint" and items[0]["owner_team"] == claim["team"]
    assert items[0]["status"] == "open" and items[0]["overdue"] is False
    path = f"/v1/rectifications/{items[0]['id']}/closure"
    closed = flow.call("specialist", "POST", path, {"evidence": "coached the handler; call-back rule added"})
    assert closed["status"] == "closed" and closed["on_time"] is True
    assert flow.call("specialist", "POST", path, {"evidence": "again"}, expect=409)["state"] == "closed"
    raised = flow.call(
        "senior_reviewer",
        "POST",
        "/v1/rectifications",
        {"requirement": "review late document requests", "owner_team": "motor-claims"},
        expect=201,
    )
    assert raised["source"] == "supervisor" and raised["deadline"] > dt.date.today().isoformat()
    assert flow.call("specialist", "POST", "/v1/rectifications", {"requirement": "x"}, expect=403)
    bad = {"requirement": "x", "owner_team": "golf"}
    assert flow.call("analyst", "POST", "/v1/rectifications", bad, expect=422)["field"] == "owner_team"
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        session.execute(
            text("UPDATE rectifications SET deadline = '2000-01-03' WHERE id = :i"), {"i": raised["id"]}
        )
        session.commit()
    late = flow.call("analyst", "GET", "/v1/rectifications?overdue=true")
    assert [i["id"] for i in late] == [raised["id"]]
    tracking = flow.call("analyst", "GET", "/v1/rectifications/tracking")["by"]
    assert tracking["team:motor-claims"]["overdue"] >= 1 and tracking["source:complaint"]["on_time"] >= 1


def test_report_periods_outside_the_calendar_or_over_three_years_are_refused(flow):
    for query in (
        "from=0001-01-01&to=0001-01-01",
        "from=1900-01-01&to=9999-12-31",
        "from=2020-01-01&to=2026-01-01",
    ):
        for path in ("/v1/reports/service-quality", "/v1/complaints/statistics"):
            refused = flow.call("analyst", "GET", f"{path}?{query}", expect=422)
            assert refused["status"] == 422, refused


def test_rectification_owners_must_exist_and_only_they_their_team_or_a_supervisor_close(flow):
    unknown = flow.call(
        "analyst", "POST", "/v1/rectifications", {"requirement": "x", "owner": "nobody"}, expect=422
    )
    assert unknown["field"] == "owner"
    assert (
        flow.call("analyst", "POST", "/v1/rectifications", {"requirement": "x"}, expect=422)["field"]
        == "owner_team"
    )
    item = flow.call(
        "analyst", "POST", "/v1/rectifications", {"requirement": "x", "owner": "chen.jing"}, expect=201
    )
    path = f"/v1/rectifications/{item['id']}/closure"
    assert flow.call("investigator", "POST", path, {"evidence": "not mine"}, expect=403)["field"] == "owner"
    assert flow.call("specialist2", "POST", path, {"evidence": "done"})["status"] == "closed"


def test_a_blank_claim_number_is_none_and_a_lower_case_one_is_found(flow):
    n = flow.report()["claim_number"]
    blank = flow.call("claims_system", "POST", "/v1/complaints", _body(claim_number=""), expect=201)
    assert blank["claim_number"] is None
    lower = flow.call("claims_system", "POST", "/v1/complaints", _body(claim_number=n.lower()), expect=201)
    assert lower["claim_number"] == n


def test_an_email_is_answered_within_the_email_reply_days_and_goes_to_the_complaints_team(client, flow):
    runtime = client.app.state.runtime
    received = dt.datetime(2026, 12, 4, 10, 0, tzinfo=ZONE)  # a Friday
    first, _ = complaints.clocks(runtime, received, "low", "email")
    assert first == dt.datetime(2026, 12, 7, 17, 30, tzinfo=ZONE)  # one working day: Monday's close
    made = flow.call("claims_system", "POST", "/v1/complaints", _body(channel="email"), expect=201)
    assert made["team"] == "complaints"


def test_a_complaint_answered_but_not_resolved_near_its_deadline_is_escalated(client, flow):
    made = flow.call("claims_system", "POST", "/v1/complaints", _body(), expect=201)
    flow.call("senior_reviewer", "POST", f"/v1/complaints/{made['id']}/response", {"text": "on it"})
    worker.run_jobs(client.app.state.runtime, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=30))
    assert flow.call("analyst", "GET", f"/v1/complaints/{made['id']}")["escalated"] is True


def test_a_claim_past_an_sla_deadline_gets_one_rectification_item_from_the_sweep(client, flow):
    weeks_ago = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=40)
    late = flow.report(incident_at=weeks_ago.isoformat(), report_date=weeks_ago.date().isoformat())
    runtime = client.app.state.runtime
    assert worker.sweep(runtime)[0] >= 1
    assert worker.sweep(runtime)[0] == 0  # one item a claim
    items = [
        i
        for i in flow.call("analyst", "GET", "/v1/rectifications")
        if i["claim_number"] == late["claim_number"]
    ]
    assert len(items) == 1 and items[0]["source"] == "sla_breach" and items[0]["owner_team"] == late["team"]


def test_two_resolutions_at_once_close_a_complaint_once_and_open_one_item(committed_client):
    from concurrent.futures import ThreadPoolExecutor

    from tests.service.conftest import Flow, headers

    flow = Flow(committed_client)
    made = flow.call("claims_system", "POST", "/v1/complaints", _body(), expect=201)
    body = {"resolution": "apologised", "cause": "staff", "upheld": True}

    def resolve(who: str):
        path = f"/v1/complaints/{made['id']}/resolution"
        return committed_client.post(path, json=body, headers=headers(who))

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(resolve, ["senior_reviewer2", "senior_reviewer"] * 4))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7, [a.text for a in answers]
    items = [i for i in flow.call("analyst", "GET", "/v1/rectifications") if i["complaint_id"] == made["id"]]
    assert len(items) == 1
    path = f"/v1/rectifications/{items[0]['id']}/closure"

    def close(who: str):
        return committed_client.post(path, json={"evidence": "done"}, headers=headers(who))

    with ThreadPoolExecutor(max_workers=8) as pool:
        closed = list(pool.map(close, ["senior_reviewer", "analyst"] * 4))
    assert sorted(a.status_code for a in closed) == [200] + [409] * 7, [a.text for a in closed]
