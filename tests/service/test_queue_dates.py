"""Each open claim's SLA dates kept on its row: the same as the clocks computed live, after every
kind of write, so the queues can order, cut and count in SQL."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select, text

from service import sla
from service.adjudication import due
from service.models.claims import Claim

CALENDAR = sla.Calendar("CN").load()
DAYS = {"document_request": 1, "review": 5, "decision": 2, "payment": 3}
STEPS = {
    "reported": ["documents_pending", "under_review"],
    "documents_pending": ["under_review"],
    "under_review": ["documents_pending", "senior_review", "approved"],
    "senior_review": ["documents_pending", "approved"],
    "approved": [],
}


def _walk(rng: random.Random) -> list[sla.Change]:
    at = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC) + dt.timedelta(days=rng.randrange(300))
    changes = [sla.Change(at, "reported")]
    while STEPS[changes[-1].status] and rng.random() < 0.8:
        at += dt.timedelta(hours=rng.randrange(1, 24 * 9))
        changes.append(sla.Change(at, rng.choice(STEPS[changes[-1].status])))
    return changes


def test_the_stored_breach_day_is_the_first_day_the_live_clocks_say_breached():
    rng = random.Random(7)
    for _ in range(300):
        changes = _walk(rng)
        start = changes[-1].at
        stage_clocks = sla.clocks(changes, [], DAYS, CALENDAR, start)
        next_due, breach_on = due.dates(stage_clocks, CALENDAR, start.date())
        shown = sla.summary(stage_clocks, CALENDAR, start.date())["next_due"]
        assert (next_due and next_due.isoformat()) == shown
        for offset in range(40):  # nothing else happens: the clocks only age
            day = start.date() + dt.timedelta(days=offset)
            later = sla.clocks(changes, [], DAYS, CALENDAR, dt.datetime.combine(day, dt.time(12), dt.UTC))
            breached = any(c.breached for c in later)
            assert breached == (breach_on is not None and day >= breach_on), (changes, day, breach_on)


def _stored(client, number: str) -> tuple:
    with client.app.state.runtime.readers() as session:
        claim = session.scalar(select(Claim).where(Claim.claim_number == number))
        return claim.sla_due, claim.sla_breach_on


def _live(flow, number: str):
    shown = flow.call("analyst", "GET", f"/v1/claims/{number}")["sla"]
    return None if shown["next_due"] is None else dt.date.fromisoformat(shown["next_due"])


def test_every_write_keeps_the_stored_due_date_equal_to_the_live_one(client, flow):
    claim = flow.report()
    n = claim["claim_number"]
    seen = []
    for step in (
        lambda: flow.send_documents(claim),
        lambda: flow.review(claim, "specialist", "preliminary"),
        lambda: flow.approve(claim, "specialist"),
    ):
        due_on, _ = _stored(client, n)
        assert due_on == _live(flow, n)
        seen.append(due_on)
        step()
    assert _stored(client, n)[0] == _live(flow, n)
    approved = flow.call("analyst", "GET", f"/v1/claims/{n}")
    flow.pay(approved, f"pay-{n}")
    assert _stored(client, n) == (None, None)  # paid: nobody works it, no clock to order by
    assert len(set(seen)) > 1  # the writes really moved the date


def test_a_breached_claim_is_counted_and_listed_from_sql(client, flow):
    weeks_ago = dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=40)
    late = flow.report(incident_at=weeks_ago.isoformat(), report_date=(weeks_ago.date()).isoformat())
    on_time = flow.report()
    n = late["claim_number"]
    breached = flow.call("specialist", "GET", "/v1/queues/breached?team=motor-claims")
    numbers = [c["claim_number"] for c in breached["items"]]
    assert n in numbers and on_time["claim_number"] not in numbers
    assert all(c["sla_breached"] for c in breached["items"])
    counts = {q["team"]: q for q in flow.call("specialist", "GET", "/v1/queues")}
    assert counts["motor-claims"]["breached"] >= 1
    not_late = flow.call("specialist", "GET", "/v1/queues/teams/motor-claims?breached=false&limit=500")
    assert n not in [c["claim_number"] for c in not_late["items"]]
    assert not any(c["sla_breached"] for c in not_late["items"])


def test_queues_filter_by_line_route_status_and_risk(flow):
    health = flow.report("health")
    motor = flow.report()
    queue = flow.call("specialist2", "GET", "/v1/queues/mine?product=health")
    assert [c["product"] for c in queue["items"]] == ["health"] * queue["total"]
    assert health["claim_number"] in [c["claim_number"] for c in queue["items"]]
    assert motor["claim_number"] not in [c["claim_number"] for c in queue["items"]]
    status = motor["status"]
    mine = flow.call("specialist", "GET", f"/v1/queues/mine?status={status}&route={motor['route']}")
    assert {c["status"] for c in mine["items"]} == {status} and {c["route"] for c in mine["items"]} == {
        motor["route"]
    }
    refused = flow.call("specialist", "GET", "/v1/queues/mine?route=huge", expect=422)
    assert "route" in str(refused)
    assert flow.call("specialist", "GET", "/v1/queues/mine?status=paid", expect=422)["status"] == 422
    assert flow.call("specialist", "GET", "/v1/queues/breached?team=golf", expect=404)["field"] == "team"


def test_a_calendar_change_is_taken_up_by_the_refresh(client, flow):
    n = flow.send_documents(flow.report())["claim_number"]  # its review clock runs
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        session.execute(text("UPDATE claims SET sla_due = NULL, sla_breach_on = NULL"))
        changed = due.refresh(session, runtime)
        stored = session.scalar(select(Claim).where(Claim.claim_number == n))
        assert changed >= 1 and stored.sla_due is not None
        assert due.refresh(session, runtime) == 0  # nothing moved since
        session.rollback()


def test_a_review_written_by_id_alone_still_moves_the_stored_dates(client, flow):
    from service.models.claims import Review

    n = flow.send_documents(flow.report())["claim_number"]
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        claim = session.scalar(select(Claim).where(Claim.claim_number == n))
        before = claim.sla_due
        session.add(
            Review(claim_id=claim.id, stage="preliminary", reviewer="li.wei", recommendation="approve")
        )
        session.commit()
    after, _ = _stored(client, n)
    assert after == _live(flow, n) and after != before  # the review clock stopped, the decision's runs
