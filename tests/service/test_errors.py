"""Bad input gets an RFC 9457 problem naming the field, and changes nothing."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from service.models.claims import Claim, DecisionRecord
from tests.service.conftest import claim_body, headers


def _problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail", "instance"} <= set(body)
    assert body["status"] == status
    return body


def _counts(client):
    with client.app.state.runtime.sessions() as session:
        return session.scalar(select(func.count(Claim.id))), session.scalar(
            select(func.count(DecisionRecord.id))
        )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"claimed_amount": "12.345"}, "claimed_amount"),
        ({"claimed_amount": "-5.00"}, "claimed_amount"),
        ({"claimed_amount": "0"}, "claimed_amount"),
        ({"incident_at": (dt.datetime.now() + dt.timedelta(days=2)).isoformat()}, "incident_at"),
        ({"report_date": (dt.date.today() + dt.timedelta(days=1)).isoformat()}, "report_date"),
        ({"channel": "pigeon"}, "channel"),
        ({"favourite_colour": "blue"}, "favourite_colour"),
        ({"payee_account": "x"}, "payee_account"),
        ({"injuries": -1}, "injuries"),
    ],
)
def test_bad_fnol_fields_are_named_and_nothing_is_stored(client, new_policy, change, field):
    number = new_policy()
    before = _counts(client)
    body = _problem(
        client.post("/v1/claims", json={**claim_body(number), **change}, headers=headers("claims_system")),
        422,
    )
    assert body["code"] == "validation_error"
    assert [e["field"] for e in body["errors"]] == [field]
    assert _counts(client) == before


def test_unknown_policy_is_404_on_fnol(client):
    body = _problem(
        client.post("/v1/claims", json=claim_body("NO-SUCH-POLICY"), headers=headers("claims_system")), 404
    )
    assert body["field"] == "policy_number"


def test_facts_the_rulebook_does_not_know_are_refused(client, new_policy):
    number = new_policy()
    payload = claim_body(number, peril="meteor", facts={"favourite_colour": "blue"})
    body = _problem(client.post("/v1/claims", json=payload, headers=headers("claims_system")), 422)
    assert {e["field"] for e in body["errors"]} == {"peril", "facts.favourite_colour"}


def test_a_missing_product_fact_is_named(client, new_policy):
    number = new_policy()
    payload = claim_body(number)
    del payload["facts"]["driver_licensed"]
    before = _counts(client)
    body = _problem(client.post("/v1/claims", json=payload, headers=headers("claims_system")), 422)
    assert body["errors"] == [{"field": "facts.driver_licensed", "message": "required fact is missing"}]
    assert _counts(client) == before  # the claim row and its first record were rolled back


def test_oversized_bodies_are_refused(client, new_policy):
    number = new_policy()
    payload = claim_body(number, description="x" * 2_100_000)
    body = _problem(client.post("/v1/claims", json=payload, headers=headers("claims_system")), 413)
    assert body["code"] == "payload_too_large"


def test_malformed_json_is_a_problem(client):
    response = client.post(
        "/v1/claims",
        content=b"{not json",
        headers={**headers("claims_system"), "Content-Type": "application/json"},
    )
    _problem(response, 422)


def test_duplicate_policy_is_409(client, new_policy):
    from tests.service.conftest import policy_body

    body = policy_body()
    assert client.post("/v1/policies", json=body, headers=headers("claims_system")).status_code == 201
    problem = _problem(client.post("/v1/policies", json=body, headers=headers("claims_system")), 409)
    assert problem["field"] == "policy_number"


def test_policy_period_must_make_sense(client):
    from tests.service.conftest import policy_body

    body = policy_body(start_date="2026-05-01", end_date="2026-04-01")
    problem = _problem(client.post("/v1/policies", json=body, headers=headers("claims_system")), 422)
    assert problem["errors"] == [{"field": "end_date", "message": "must not be before start_date"}]
    assert "end_date: must not be before start_date" in problem["detail"]


def test_unknown_route_is_a_404_problem(client):
    _problem(client.get("/v1/nothing-here", headers=headers("analyst")), 404)
