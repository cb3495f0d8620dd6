"""After-sales follow-up: phone surveys made by the claim's team, complaints owned by a member of
the complaints team, and rectification items escalated once they are past their deadline."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from service.models.claims import Claim
from service.outbox import worker
from service.rectification import service as rectification
from service.surveys import service as surveys
from tests.service.conftest import PEOPLE, Flow, headers
from tests.service.test_workbench import Browser


def _paid(flow: Flow, **contact) -> dict:
    claim = flow.report(**contact)
    flow.send_documents(claim)
    flow.review(claim, "specialist", "preliminary")
    flow.pay(flow.approve(claim, "specialist"), f"pay-{claim['claim_number']}")
    worker.run_jobs(flow.client.app.state.runtime)
    return claim


def _call_for(flow: Flow, number: str, who: str = "specialist") -> dict:
    (due,) = [c for c in flow.call(who, "GET", "/v1/surveys/calls") if c["claim_number"] == number]
    return due


def test_a_customer_without_email_is_called_by_the_claims_team_instead_of_sent_a_link(flow):
    claim = _paid(flow, contact_phone="+86 139 0000 2222")
    n = claim["claim_number"]
    events = [m["event"] for m in flow.call("analyst", "GET", f"/v1/claims/{n}/messages")]
    assert "survey_invitation" not in events  # nothing to click: a person calls
    assert claim["owner"] == PEOPLE["specialist"]
    due = _call_for(flow, n, "specialist2")
    assert (due["method"], due["state"], due["team"]) == ("phone", "open", "motor-claims")
    # The caller is the team's member who did not handle the claim: nobody rates their own work.
    assert due["assignee"] == PEOPLE["specialist2"] and due["contact_phone"] == "+86 139 0000 2222"
    assert n in [c["claim_number"] for c in flow.call("specialist2", "GET", "/v1/surveys/calls?mine=true")]
    assert n not in [c["claim_number"] for c in flow.call("specialist", "GET", "/v1/surveys/calls")]
    own = flow.call("specialist", "POST", f"/v1/surveys/{due['id']}/calls", {"reached": False}, expect=403)
    assert own["field"] == "caller" and "you handled" in own["detail"]
    # The investigator is no member of the team: the call is not theirs to list or to record.
    flow.call("investigator", "GET", "/v1/surveys/calls", expect=403)
    flow.call("claims_system", "POST", f"/v1/surveys/{due['id']}/calls", {"reached": False}, expect=403)
    flow.call("specialist2", "POST", f"/v1/surveys/{due['id']}/calls", {"reached": True}, expect=422)
    missed = flow.call("specialist2", "POST", f"/v1/surveys/{due['id']}/calls", {"reached": False})
    assert (missed["calls"], missed["state"]) == (1, "open")
    body = {"reached": True, "rating": 4, "comment": "polite and quick"}
    answered = flow.call("specialist2", "POST", f"/v1/surveys/{due['id']}/calls", body)
    assert (answered["state"], answered["rating"], answered["answered_by"]) == ("answered", 4, "chen.jing")
    again = flow.call("senior_reviewer", "POST", f"/v1/surveys/{due['id']}/calls", body, expect=409)
    assert again["state"] == "answered"
    assert n not in [c["claim_number"] for c in flow.call("specialist2", "GET", "/v1/surveys/calls")]
    records = flow.call("analyst", "GET", f"/v1/claims/{n}/decisions")
    kinds = [(r["kind"], r["actor"]) for r in records if r["kind"].startswith("survey")]
    assert kinds == [("survey_call", "chen.jing"), ("survey_answered", "chen.jing")]
    (answer,) = [r for r in records if r["kind"] == "survey_answered"]
    assert answer["outcome"]["method"] == "phone" and answer["outcome"]["rating"] == 4


def test_a_phone_follow_up_lapses_after_the_policys_unanswered_calls(client, flow):
    n = _paid(flow, contact_phone="+86 139 0000 5555")["claim_number"]
    due = _call_for(flow, n, "specialist2")
    attempts = client.app.state.runtime.settings.aftersales.survey.phone_attempts
    for _ in range(attempts):
        last = flow.call("specialist2", "POST", f"/v1/surveys/{due['id']}/calls", {"reached": False})
    assert (last["calls"], last["state"]) == (attempts, "lapsed")
    flow.call("specialist2", "POST", f"/v1/surveys/{due['id']}/calls", {"reached": False}, expect=409)
    assert n not in [c["claim_number"] for c in flow.call("specialist2", "GET", "/v1/surveys/calls")]


def test_a_customer_with_no_phone_is_never_a_call_nobody_can_make(client):
    """The policy calls for a major claim or a customer without email, only if there is a phone."""
    policy = client.app.state.runtime.settings.aftersales.survey
    assert set(policy.phone_when) == {"no_email", "major"}
    cases = [
        ({"route": "major", "contact_email": "a@b.cn", "contact_phone": None}, False),  # the link instead
        ({"route": "major", "contact_email": "a@b.cn", "contact_phone": "+86 1"}, True),
        ({"route": "simple", "contact_email": None, "contact_phone": None}, False),  # nobody to call
        ({"route": "simple", "contact_email": None, "contact_phone": "+86 1"}, True),
        ({"route": "simple", "contact_email": "a@b.cn", "contact_phone": "+86 1"}, False),
    ]
    for fields, expected in cases:
        assert surveys.by_phone(policy, Claim(**fields)) is expected, fields


def test_a_customer_with_email_still_gets_the_link_and_no_call(flow):
    n = _paid(flow, contact_email="link@example.com")["claim_number"]
    events = [m["event"] for m in flow.call("analyst", "GET", f"/v1/claims/{n}/messages")]
    assert events[-1] == "survey_invitation"
    assert n not in [c["claim_number"] for c in flow.call("specialist", "GET", "/v1/surveys/calls")]


def test_two_callers_at_once_record_one_answer(committed_client):
    flow = Flow(committed_client)
    n = _paid(flow, contact_phone="+86 139 0000 3333")["claim_number"]
    due = _call_for(flow, n, "specialist2")
    body = {"reached": True, "rating": 5}

    def call(who):
        return committed_client.post(f"/v1/surveys/{due['id']}/calls", json=body, headers=headers(who))

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = sorted(r.status_code for r in pool.map(call, ["specialist2", "senior_reviewer"] * 2))
    assert codes == [200, 409, 409, 409]
    records = flow.call("analyst", "GET", f"/v1/claims/{n}/decisions")
    assert [r["kind"] for r in records].count("survey_answered") == 1


COMPLAINT = {"channel": "hotline", "customer": "Wang Li", "category": "claim_delay", "severity": "low"}


def test_complaints_go_to_the_least_loaded_member_of_the_complaints_team(flow):
    team = flow.client.app.state.runtime.assignment.members("complaints")
    owners = [
        flow.call("claims_system", "POST", "/v1/complaints", {**COMPLAINT, "text": f"#{i}"}, expect=201)
        for i in range(3)
    ]
    counts = {m: [o["owner"] for o in owners].count(m) for m in team}
    assert sorted(counts.values()) == [1, 2]  # spread: never three to one member
    first = owners[0]
    mine = flow.call("analyst", "GET", f"/v1/complaints?owner={first['owner']}")
    assert first["id"] in [c["id"] for c in mine]


def test_a_complaint_is_handed_over_by_its_owner_or_a_supervisor_to_a_team_member(flow):
    complaint = flow.call("claims_system", "POST", "/v1/complaints", {**COMPLAINT, "text": "x"}, expect=201)
    path = f"/v1/complaints/{complaint['id']}/assignment"
    owner_role = next(r for r, name in PEOPLE.items() if name == complaint["owner"] and "senior" in r)
    other = next(m for m in ("wang.fang", "zhang.min") if m != complaint["owner"])
    refused = flow.call("specialist", "POST", path, {"to": other, "reason": "mine now"}, expect=403)
    assert refused["field"] == "owner"
    flow.call(owner_role, "POST", path, {"to": "li.wei", "reason": "x"}, expect=422)  # no member of the team
    flow.call(owner_role, "POST", path, {"to": other}, expect=422)  # no reason
    moved = flow.call(owner_role, "POST", path, {"to": other, "reason": "on leave"})
    assert moved["owner"] == other
    assert flow.call("analyst", "GET", f"/v1/complaints/{complaint['id']}")["owner"] == other
    back = flow.call("analyst", "POST", path, {"to": complaint["owner"], "reason": "back from leave"})
    assert back["owner"] == complaint["owner"]  # a supervisor hands it over too


def test_only_the_complaints_team_or_a_supervisor_answers_a_complaint(flow):
    made = flow.call("claims_system", "POST", "/v1/complaints", {**COMPLAINT, "text": "y"}, expect=201)
    path = f"/v1/complaints/{made['id']}"
    refused = flow.call("specialist", "POST", f"{path}/response", {"text": "not my team"}, expect=403)
    assert refused["field"] == "owner"
    assert flow.call("analyst", "GET", path)["status"] == "open"  # nothing changed
    assert (
        flow.call("senior_reviewer2", "POST", f"{path}/response", {"text": "on it"})["status"] == "responded"
    )


def test_a_handed_over_complaint_about_a_claim_is_kept_in_its_records(flow):
    n = flow.report()["claim_number"]
    made = flow.call(
        "claims_system", "POST", "/v1/complaints", {**COMPLAINT, "text": "z", "claim_number": n}, expect=201
    )
    other = next(m for m in ("wang.fang", "zhang.min") if m != made["owner"])
    flow.call("admin", "POST", f"/v1/complaints/{made['id']}/assignment", {"to": other, "reason": "workload"})
    records = flow.call("analyst", "GET", f"/v1/claims/{n}/decisions")
    (moved,) = [r for r in records if r["kind"] == "complaint_assigned"]
    assert moved["outcome"] == {
        "complaint": made["id"],
        "from": made["owner"],
        "to": other,
        "reason": "workload",
    }


def test_an_item_past_its_deadline_is_escalated_once_to_the_supervisors(client, flow):
    runtime = client.app.state.runtime
    deadline = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    body = {"requirement": "call the customer back", "owner_team": "motor-claims", "deadline": deadline}
    item = flow.call("senior_reviewer", "POST", "/v1/rectifications", body, expect=201)
    assert item["escalated_to"] is None
    after = dt.date.fromisoformat(deadline) + dt.timedelta(days=1)
    with runtime.sessions() as session:
        assert rectification.escalate_overdue(session, runtime, dt.date.fromisoformat(deadline)) == 0
        assert rectification.escalate_overdue(session, runtime, after) >= 1
        assert rectification.escalate_overdue(session, runtime, after) == 0  # once
        session.commit()
    shown = flow.call("analyst", "GET", f"/v1/rectifications/{item['id']}")
    assert shown["escalated_to"] == "supervisors" and shown["escalated_at"]
    escalated = flow.call("analyst", "GET", "/v1/rectifications?escalated=true")
    assert item["id"] in [i["id"] for i in escalated]
    assert item["id"] not in [
        i["id"] for i in flow.call("analyst", "GET", "/v1/rectifications?escalated=false")
    ]
    assert (
        flow.call("analyst", "GET", "/v1/rectifications/tracking")["by"]["team:motor-claims"]["escalated"]
        >= 1
    )


def test_the_workbench_lists_the_teams_calls_and_records_one(client):
    flow = Flow(client)
    n = _paid(flow, contact_phone="+86 139 0000 4444")["claim_number"]
    due = _call_for(flow, n, "specialist2")
    page = Browser(client, "specialist2")
    shown = page.get("/app/calls")
    assert f'id="call-{due["id"]}"' in shown and "+86 139 0000 4444" in shown and "车险理赔组" in shown
    page.post(f"/app/calls/{due['id']}", {"reached": "true"}, expect=422)  # no rating: refused as a page
    page.post(f"/app/calls/{due['id']}", {"reached": "false"})
    page.get("/app/calls")
    page.post(f"/app/calls/{due['id']}", {"reached": "true", "rating": "5", "comment": "thanks"})
    answered = flow.call("specialist", "GET", f"/v1/surveys/{due['id']}")
    assert (answered["calls"], answered["rating"], answered["answered_by"]) == (1, 5, "chen.jing")
    assert f'id="call-{due["id"]}"' not in page.get("/app/calls")
    Browser(client, "investigator").get("/app/calls", expect=403)
