"""Assignment: the policy file decides each claim's team (and owner) at intake and on a re-route;
people take, give back and hand on claims; the queues list them by the next SLA due date."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import select, text

from service import assignment
from service.adjudication import adjudicate
from service.config import Settings
from service.models.claims import Claim
from tests.service.conftest import PEOPLE, Flow, claim_body, headers

MAJOR = {"claimed_amount": "800500.00"}


def _assignments(flow: Flow, number: str) -> list[dict]:
    return [
        r for r in flow.call("analyst", "GET", f"/v1/claims/{number}/decisions") if r["kind"] == "assignment"
    ]


def _take(flow: Flow, who: str, number: str, expect: int = 200, **body) -> dict:
    return flow.call(
        who, "POST", f"/v1/claims/{number}/assignment", {"action": "take", **body}, expect=expect
    )


def test_line_claims_go_to_the_least_loaded_specialist_of_the_line(flow):
    owners = [flow.report()["owner"] for _ in range(3)]
    assert owners == [PEOPLE["specialist"], PEOPLE["specialist2"], PEOPLE["specialist"]]
    health = flow.report("health")
    assert (health["team"], health["owner"]) == ("health-claims", PEOPLE["specialist2"])
    listed = flow.call("analyst", "GET", "/v1/claims?limit=1")["items"][0]
    assert (listed["team"], listed["owner"]) == ("health-claims", PEOPLE["specialist2"])


def test_a_major_claim_waits_in_the_major_claims_queue(flow):
    claim = flow.report(policy=flow.policy(sum_insured="2000000.00"), **MAJOR)
    assert claim["route"] == "major"
    assert (claim["team"], claim["owner"]) == ("major-claims", None)
    waiting = flow.call("specialist", "GET", "/v1/queues/teams/major-claims?waiting=true")
    assert claim["claim_number"] in [c["claim_number"] for c in waiting["items"]]


def test_take_give_back_and_the_refusals_that_name_the_field(flow):
    claim = flow.report(policy=flow.policy(sum_insured="2000000.00"), **MAJOR)
    n = claim["claim_number"]
    outsider = _take(flow, "specialist", n, 403)
    assert outsider["field"] == "team" and "major-claims" in outsider["detail"]
    taken = _take(flow, "senior_reviewer", n)
    assert taken["owner"] == PEOPLE["senior_reviewer"] and taken["team"] == "major-claims"
    assert _take(flow, "senior_reviewer", n)["owner"] == PEOPLE["senior_reviewer"]  # a retry: unchanged
    clash = _take(flow, "senior_reviewer2", n, 409)
    assert clash["field"] == "owner" and clash["owner"] == PEOPLE["senior_reviewer"]
    release = {"action": "release"}
    not_yours = flow.call("senior_reviewer2", "POST", f"/v1/claims/{n}/assignment", release, expect=409)
    assert not_yours["field"] == "owner"
    back = flow.call("senior_reviewer", "POST", f"/v1/claims/{n}/assignment", release)
    assert back["owner"] is None and back["team"] == "major-claims"
    records = _assignments(flow, n)
    assert [r["outcome"]["action"] for r in records] == ["take", "release"]  # the retry left no record
    assert records[0]["actor"] == PEOPLE["senior_reviewer"]
    assert (
        flow.call("claims_system", "POST", f"/v1/claims/{n}/assignment", release, expect=403)["status"] == 403
    )


def test_only_a_senior_reviewer_reassigns_and_only_to_a_member_with_a_reason(flow):
    n = flow.report()["claim_number"]
    path = f"/v1/claims/{n}/assignment"
    move = {
        "action": "reassign",
        "team": "motor-claims",
        "to": PEOPLE["specialist2"],
        "reason": "annual leave",
    }
    assert flow.call("specialist", "POST", path, move, expect=403)["field"] == "action"
    assert (
        flow.call("senior_reviewer", "POST", path, {**move, "reason": None}, expect=422)["field"] == "reason"
    )
    assert flow.call("senior_reviewer", "POST", path, {**move, "to": "nobody"}, expect=422)["field"] == "to"
    assert flow.call("senior_reviewer", "POST", path, {**move, "team": "golf"}, expect=422)["field"] == "team"
    moved = flow.call("senior_reviewer", "POST", path, move)
    assert (moved["team"], moved["owner"]) == ("motor-claims", PEOPLE["specialist2"])
    (record,) = _assignments(flow, n)
    assert (
        record["outcome"]["reason"] == "annual leave" and record["outcome"]["owner"] == PEOPLE["specialist2"]
    )
    to_queue = flow.call(
        "senior_reviewer", "POST", path, {"action": "reassign", "team": "major-claims", "reason": "x"}
    )
    assert (to_queue["team"], to_queue["owner"]) == ("major-claims", None)


def test_a_claim_nobody_works_any_more_cannot_be_taken(flow):
    n = flow.report()["claim_number"]
    flow.call("claims_system", "POST", f"/v1/claims/{n}/withdraw")
    refused = _take(flow, "specialist", n, 409)
    assert refused["field"] == "status" and "withdrawn" in refused["detail"]


def test_queues_order_by_the_next_due_date_and_count_per_team(flow):
    claims = [flow.report() for _ in range(5)]
    flow.send_documents(claims[4])  # li.wei's newest: its review clock now runs; the others wait
    flow.send_documents(claims[2])
    mine = flow.call("specialist", "GET", "/v1/queues/mine")
    assert mine["queue"] == f"person/{PEOPLE['specialist']}" and mine["total"] == len(mine["items"]) >= 2
    assert all(c["owner"] == PEOPLE["specialist"] for c in mine["items"])
    due = [c["sla_next_due"] for c in mine["items"]]
    running = [d for d in due if d is not None]
    assert len(running) == 2 and due == sorted(running) + [None] * (len(due) - len(running))  # idle last
    assert mine["items"][-1]["claim_number"] == claims[0]["claim_number"]  # the oldest report of the idle
    first = flow.call("specialist", "GET", "/v1/queues/mine?limit=1&offset=1")
    assert first["total"] == mine["total"] and first["items"] == mine["items"][1:2]
    counts = {q["team"]: q for q in flow.call("specialist", "GET", "/v1/queues")}
    assert counts["motor-claims"]["open"] >= 3 and counts["motor-claims"]["mine"] is True
    assert counts["major-claims"]["mine"] is False
    assert counts["motor-claims"]["label"]["zh-CN"] == "车险理赔组"
    missing = flow.call("specialist", "GET", "/v1/queues/teams/golf", expect=404)
    assert missing["field"] == "team"


def test_a_re_routed_claim_is_reassigned_and_the_change_kept_with_why(client, flow):
    claim = flow.report(policy=flow.policy(sum_insured="2000000.00"))
    assert (claim["team"], claim["owner"]) == ("motor-claims", PEOPLE["specialist"])
    runtime = client.app.state.runtime
    with runtime.sessions() as session:
        stored = session.scalar(select(Claim).where(Claim.claim_number == claim["claim_number"]))
        stored.claimed_amount = Decimal("800500.00")  # what a corrected report would carry
        adjudicate(session, runtime, stored, request_id="re-route")
        assert stored.route == "major"
        assert (stored.team, stored.owner) == ("major-claims", None)
        change = [e for e in stored.events if e.kind == "assign"][-1]
        assert change.old == f"motor-claims/{PEOPLE['specialist']}" and change.new == "major-claims/"
        assert change.why.startswith("major: ")
        session.rollback()


def test_two_members_taking_one_claim_at_once_leave_it_with_one(committed_client):
    flow = Flow(committed_client)
    claim = flow.report(policy=flow.policy(sum_insured="2000000.00"), **MAJOR)
    n = claim["claim_number"]
    takers = ["senior_reviewer", "senior_reviewer2"] * 6

    def take(who: str):
        return committed_client.post(
            f"/v1/claims/{n}/assignment", json={"action": "take"}, headers=headers(who)
        )

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(take, takers))
    assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
    owners = {a.json()["owner"] for a in answers if a.status_code == 200}
    assert len(owners) == 1
    (owner,) = owners
    assert all(a.json()["owner"] == owner for a in answers if a.status_code == 409)
    with committed_client.app.state.runtime.db.connect() as connection:
        taken = connection.execute(
            text(
                "SELECT count(*) FROM decision_records r JOIN claims c ON c.id = r.claim_id "
                "WHERE c.claim_number = :n AND r.kind = 'assignment'"
            ),
            {"n": n},
        ).scalar_one()
    assert taken == 1


def test_an_assignment_file_with_mistakes_is_refused_whole(tmp_path):
    bad = tmp_path / "assignment.yaml"
    bad.write_text(
        "teams:\n  a: {label: {en: A, zh-CN: 甲}, members: [x]}\n"
        "rules:\n"
        "  - {name: r1, when: {route: major}, to: {team: golf}, why: {en: e, zh-CN: z}}\n"
        "  - {name: r1, when: {product: motor}, to: {team: a, least_loaded: a}, why: {en: e, zh-CN: z}}\n",
        encoding="utf-8",
    )
    with pytest.raises(assignment.AssignmentError) as refused:
        assignment.load(bad)
    message = str(refused.value)
    assert "rules.1.to: give exactly one of team or least_loaded" in message
    with pytest.raises(ValidationError, match="assignment_file"):
        Settings(assignment_file=bad)
    bad.write_text(
        "teams: {}\nrules:\n  - {name: r, when: {route: major}, to: {team: golf}, why: {en: e, zh-CN: z}}\n"
    )
    with pytest.raises(assignment.AssignmentError) as refused:
        assignment.load(bad)
    message = str(refused.value)
    assert "unknown team 'golf'" in message and "must match every claim" in message
    rule = "{name: r, when: {route: huge}, to: {least_loaded: a}, why: {en: e, zh-CN: z}}"
    bad.write_text(f"teams:\n  a: {{label: {{en: A, zh-CN: 甲}}}}\nrules:\n  - {rule}\n", encoding="utf-8")
    with pytest.raises(assignment.AssignmentError) as refused:
        assignment.load(bad)
    assert "route is one of ['simple', 'complex', 'major'], not ['huge']" in str(refused.value)
    assert "a member of 'a', which has none" in str(refused.value)


def test_the_shipped_policy_sends_what_the_claims_policy_asks():
    shipped = assignment.load()
    assert shipped.decide({"route": "major", "risk_band": "high", "product": "motor"}).team == "major-claims"
    assert (
        shipped.decide({"route": "simple", "risk_band": "high", "product": "motor"}).team == "investigations"
    )
    line = shipped.decide({"route": "complex", "risk_band": "low", "product": "property"})
    assert (line.team, line.least_loaded) == ("property-claims", True)


def test_claim_body_is_unchanged_by_assignment(flow):
    # Assignment is the service's: a caller cannot set a team or owner in a report.
    body = {**claim_body(flow.policy()), "owner": "li.wei"}
    refused = flow.call("claims_system", "POST", "/v1/claims", body, expect=422)
    assert "owner" in str(refused)
