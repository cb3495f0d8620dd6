"""The workbench's pages over HTTP: sign-in and its cookie, CSRF on every form, the API's role
checks, and the actions calling the same domain services (browser walks: test_workbench_browser)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.web.auth import COOKIE
from tests.service.conftest import KEYS, PEOPLE, Flow

MAJOR = {"claimed_amount": "800500.00"}


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)


class Browser:
    """One person's cookie jar on the test client, posting forms as their pages would."""

    def __init__(self, client, who: str) -> None:
        self.client = TestClient(client.app)  # its own cookies, the same app and database
        page = self.client.get("/app/sign-in")
        assert page.status_code == 200
        signed = self.client.post(
            "/app/sign-in",
            data={"csrf": _csrf(page.text), "api_key": KEYS[who], "next": "/app/queues/mine"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        self.token = None

    def get(self, path: str, expect: int = 200) -> str:
        page = self.client.get(path)
        assert page.status_code == expect, page.text
        self.token = _csrf(page.text)
        return page.text

    def post(self, path: str, data: dict, expect: int = 303, csrf: bool = True):
        answer = self.client.post(
            path, data={**data, **({"csrf": self.token} if csrf else {})}, follow_redirects=False
        )
        assert answer.status_code == expect, answer.text
        return answer


def test_signing_in_sets_a_signed_http_only_same_site_cookie(client):
    page = client.get("/app/sign-in")
    signed = client.post(
        "/app/sign-in",
        data={"csrf": _csrf(page.text), "api_key": KEYS["specialist"], "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/app/queues/mine"  # no open redirect
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/app" in cookie and KEYS["specialist"] not in cookie
    mine = client.get("/app/queues/mine")
    assert mine.status_code == 200 and PEOPLE["specialist"] in mine.text
    forged = client.cookies.get(COOKIE)[:-3] + "AAA"
    client.cookies.clear()
    client.cookies.set(COOKIE, forged)
    assert client.get("/app/queues/mine", follow_redirects=False).status_code == 303  # back to sign-in


def test_a_wrong_key_and_a_signed_out_visit_go_to_the_sign_in_page(client):
    client.cookies.clear()
    away = client.get("/app/claims/CLM-2026-0000001", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/app/sign-in?next=/app/claims/")
    page = client.get("/app/sign-in")
    wrong = client.post("/app/sign-in", data={"csrf": _csrf(page.text), "api_key": "nope"})
    assert wrong.status_code == 401 and 'id="problem"' in wrong.text


def test_a_form_without_the_session_token_is_refused_and_changes_nothing(client):
    flow = Flow(client)
    n = flow.report(policy=flow.policy(sum_insured="2000000.00"), **MAJOR)["claim_number"]
    senior = Browser(client, "senior_reviewer")
    senior.get(f"/app/claims/{n}")
    senior.post(f"/app/claims/{n}/assignment", {"action": "take"}, expect=403, csrf=False)
    senior.post(f"/app/claims/{n}/assignment", {"action": "take", "csrf": "forged"}, expect=403, csrf=False)
    assert flow.call("analyst", "GET", f"/v1/claims/{n}")["owner"] is None
    senior.post(f"/app/claims/{n}/assignment", {"action": "take"})
    assert flow.call("analyst", "GET", f"/v1/claims/{n}")["owner"] == PEOPLE["senior_reviewer"]
    refused = senior.client.post("/app/sign-in", data={"api_key": KEYS["admin"]}, follow_redirects=False)
    assert refused.status_code == 403  # a sign-in form posted from elsewhere


def test_a_specialist_sees_no_approve_button_on_a_claim_in_senior_review(client):
    flow = Flow(client)
    claim = flow.send_documents(flow.report(policy=flow.policy(sum_insured="2000000.00"), **MAJOR))
    n = claim["claim_number"]
    senior = Browser(client, "senior_reviewer")
    senior.get(f"/app/claims/{n}")
    senior.post(f"/app/claims/{n}/review", {"stage": "preliminary", "recommendation": "approve"}, 403)
    flow.review(claim, "specialist", "preliminary")
    assert flow.call("analyst", "GET", f"/v1/claims/{n}")["status"] == "senior_review"
    specialist = Browser(client, "specialist")
    page = specialist.get(f"/app/claims/{n}")
    assert 'id="approve"' not in page and 'id="senior_review"' not in page
    # Posted anyway: the domain refuses it and the page shows the problem's own text.
    refused = specialist.post(f"/app/claims/{n}/decision", {"outcome": "approve", "amount": "1.00"}, 409)
    assert "senior review before the decision" in refused.text
    senior_page = senior.get(f"/app/claims/{n}")
    assert 'id="senior_review"' in senior_page


def test_queue_pages_show_counts_filters_and_the_stage_clock(client):
    flow = Flow(client)
    flow.send_documents(flow.report())
    flow.report("health")
    specialist = Browser(client, "specialist")
    page = specialist.get("/app/queues/mine")
    assert 'id="queue"' in page and "motor-claims" in page
    assert re.search(r"\d+ 已用 / \d+ 剩余", page)  # the stage clock, in Chinese by default
    filtered = specialist.get("/app/queues/mine?product=health")
    assert "data-claim=" not in filtered  # li.wei holds no health claim
    specialist.post("/app/language", {"lang": "en", "next": "/app/queues/mine"})
    english = specialist.get("/app/queues/mine")
    assert "My work" in english and re.search(r"\d+ used / \d+ left", english)
    assert specialist.get("/app/queues/teams/golf", expect=404)
    assert "data-claim=" in specialist.get("/app/queues/teams/motor-claims")


def test_roles_the_api_refuses_are_refused_by_the_pages(client):
    system = Browser(client, "claims_system")
    assert "nav-rulebooks" not in system.get("/app/queues/mine")
    system.get("/app/rulebooks", expect=403)
    system.get("/app/investigations", expect=403)
    analyst = Browser(client, "analyst")
    assert "motor" in analyst.get("/app/rulebooks")


@pytest.mark.parametrize("path", ["/app/static/app.css"])
def test_static_assets_are_served_by_the_service(client, path):
    answer = client.get(path)
    assert answer.status_code == 200 and "--accent" in answer.text


def test_two_people_taking_one_claim_from_their_pages_at_once_leave_it_with_one(committed_client):
    from concurrent.futures import ThreadPoolExecutor

    flow = Flow(committed_client)
    n = flow.report(policy=flow.policy(sum_insured="2000000.00"), **MAJOR)["claim_number"]
    people = [Browser(committed_client, who) for who in ("senior_reviewer", "senior_reviewer2")]
    for person in people:
        person.get(f"/app/claims/{n}")

    def take(person: Browser):
        data = {"action": "take", "csrf": person.token}
        return person.client.post(f"/app/claims/{n}/assignment", data=data, follow_redirects=False)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(take, people * 4))
    assert {a.status_code for a in answers} <= {303, 409}, [a.text[:300] for a in answers]
    owner = flow.call("analyst", "GET", f"/v1/claims/{n}")["owner"]
    assert owner in (PEOPLE["senior_reviewer"], PEOPLE["senior_reviewer2"])
    refused = [a for a in answers if a.status_code == 409]
    assert refused and all(owner in a.text for a in refused)  # the page names who holds it
    records = [
        r for r in flow.call("analyst", "GET", f"/v1/claims/{n}/decisions") if r["kind"] == "assignment"
    ]
    assert len(records) == 1


def test_signing_out_ends_the_session_even_for_a_copied_cookie(client):
    specialist = Browser(client, "specialist")
    specialist.get("/app/queues/mine")
    copied = specialist.client.cookies.get(COOKIE)
    specialist.post("/app/sign-out", {})
    replay = TestClient(client.app)
    replay.cookies.set(COOKIE, copied)
    away = replay.get("/app/queues/mine", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/app/sign-in")


def test_a_session_ends_eight_hours_after_sign_in_however_busy(client):
    from sqlalchemy import text

    specialist = Browser(client, "specialist")
    specialist.get("/app/queues/mine")
    with client.app.state.runtime.sessions() as db:
        db.execute(text("UPDATE workbench_sessions SET created_at = :t"), {"t": "2000-01-01 00:00:00"})
        db.commit()
    away = specialist.client.get("/app/queues/mine", follow_redirects=False)
    assert away.status_code == 303 and "expired=1" in away.headers["location"]


def test_filters_left_on_any_mean_no_filter_and_unknown_pages_are_pages(client):
    flow = Flow(client)
    flow.report()
    api = flow.call("specialist", "GET", "/v1/queues/mine?product=&route=&status=&risk_band=&breached=")
    assert api["total"] == flow.call("specialist", "GET", "/v1/queues/mine")["total"] >= 1
    specialist = Browser(client, "specialist")
    assert "data-claim=" in specialist.get("/app/queues/mine?product=&route=&status=&risk_band=")
    for path, status in (("/app/claims/CLM-0", 404), ("/app/nowhere", 404), ("/app/sign-out", 405)):
        page = specialist.client.get(path)
        assert page.status_code == status and page.headers["content-type"].startswith("text/html")
        assert 'id="problem"' in page.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/app"


def test_a_refused_form_keeps_the_language_switch_on_its_claim_page(client):
    flow = Flow(client)
    n = flow.report()["claim_number"]
    specialist = Browser(client, "specialist")
    specialist.get(f"/app/claims/{n}")
    refused = specialist.post(f"/app/claims/{n}/decision", {"outcome": "approve", "amount": "1.00"}, 409)
    assert f'name="next" value="/app/claims/{n}"' in refused.text
    assert "Content-Security-Policy" in refused.headers and refused.headers["Cache-Control"] == "no-store"


def test_the_after_sales_pages_answer_complaints_close_items_and_show_quality(client):
    flow = Flow(client)
    claim = flow.report(contact_email="w@example.com")
    n = claim["claim_number"]
    body = {
        "channel": "app",
        "customer": "C",
        "category": "payment",
        "severity": "low",
        "text": "slow",
        "claim_number": n,
    }
    made = flow.call("claims_system", "POST", "/v1/complaints", body, expect=201)
    specialist = Browser(client, "specialist")
    page = specialist.get(f"/app/claims/{n}")
    assert 'id="messages"' in page and "报案回执" in page and f"#{made['id']}" in page
    assert f'id="complaint-{made["id"]}"' in specialist.get("/app/complaints")
    # Outside the complaints team, the specialist may read it but not answer it.
    refused = specialist.post(f"/app/complaints/{made['id']}/response", {"text": "mine?"}, 403)
    assert "complaints team" in refused.text
    team = Browser(client, "senior_reviewer")  # a member of the complaints team
    team.get("/app/complaints")
    team.post(f"/app/complaints/{made['id']}/response", {"text": "looking into it"})
    team.get("/app/complaints?status=responded")
    team.post(
        f"/app/complaints/{made['id']}/resolution",
        {"resolution": "paid", "cause": "process", "upheld": "true"},
    )
    assert flow.call("analyst", "GET", f"/v1/complaints/{made['id']}")["upheld"] is True
    refused = team.post(f"/app/complaints/{made['id']}/response", {"text": "again"}, 409)
    assert "resolved" in refused.text
    specialist.get("/app/complaints")
    items = specialist.get("/app/rectifications")
    (item,) = [i for i in flow.call("analyst", "GET", "/v1/rectifications") if i["claim_number"] == n]
    assert f"/app/rectifications/{item['id']}/closure" in items
    specialist.post(f"/app/rectifications/{item['id']}/closure", {"evidence": "rule changed"})
    assert flow.call("analyst", "GET", "/v1/rectifications?status=closed")[0]["evidence"] == "rule changed"
    analyst = Browser(client, "analyst")
    quality_page = analyst.get("/app/quality?by=line")
    assert "按月" in quality_page and "季度汇总" in quality_page and "按险种" in quality_page
    specialist.get("/app/quality", expect=403)
