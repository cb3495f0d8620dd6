"""No input makes the service answer 500, and every refusal is a problem naming what is at fault."""

import json

import pytest

from service.claims import views
from tests.service.conftest import claim_body, headers


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/claims?offset=60703525603618550502653952", "offset"),
        ("/v1/investigations?offset=2147483648", "offset"),
    ],
)
def test_huge_integers_in_a_query_are_refused_naming_the_parameter(client, path, field):
    who = "investigator" if "investigations" in path else "analyst"
    problem = _problem(client.get(path, headers=headers(who)), 422)
    assert problem["errors"][0]["field"] == field


def test_huge_ids_in_a_path_are_refused_naming_the_parameter(flow, client):
    claim = flow.report()
    check = {"status": "verified"}
    path = f"/v1/claims/{claim['claim_number']}/documents/2147483648"
    assert (
        _problem(client.patch(path, json=check, headers=headers("specialist")), 422)["errors"][0]["field"]
        == "doc_id"
    )
    outcome = {"outcome": "cleared", "notes": "fine"}
    huge = client.post(
        "/v1/investigations/99999999999999/outcome", json=outcome, headers=headers("investigator")
    )
    assert _problem(huge, 422)["errors"][0]["field"] == "investigation_id"


def test_control_characters_are_refused_naming_the_field_and_nothing_is_stored(flow, client):
    number = flow.policy()
    before = flow.call("analyst", "GET", "/v1/claims")["total"]
    nul = client.post(
        "/v1/claims", json=claim_body(number, description="a\u0000b"), headers=headers("claims_system")
    )
    assert _problem(nul, 422)["errors"][0]["field"] == "description"
    body = claim_body(number, facts={"driver_intoxicated": False, "note\u0007": "x"})
    assert (
        _problem(client.post("/v1/claims", json=body, headers=headers("claims_system")), 422)["errors"][0][
            "field"
        ]
        == "facts"
    )
    surrogate = '{"policy_number": "' + number + '", "description": "\\ud800"}'
    raw = client.post(
        "/v1/claims",
        content=surrogate,
        headers={**headers("claims_system"), "Content-Type": "application/json"},
    )
    assert raw.status_code == 422
    assert _problem(client.get("/v1/claims?status=%00", headers=headers("analyst")), 422)["field"] == "status"
    assert flow.call("analyst", "GET", "/v1/claims")["total"] == before


def test_a_request_id_that_does_not_fit_is_replaced_and_the_response_says_so(flow, client):
    number = flow.policy()
    sent = "x" * 65
    response = client.post(
        "/v1/claims", json=claim_body(number), headers=headers("claims_system", **{"X-Request-ID": sent})
    )
    assert response.status_code == 201
    given = response.headers["X-Request-ID"]
    assert given != sent and len(given) <= 64 and "X-Request-ID-Replaced" in response.headers
    records = flow.call("analyst", "GET", f"/v1/claims/{response.json()['claim_number']}/decisions")
    assert {r["request_id"] for r in records} == {given}
    kept = client.get("/healthz", headers={"X-Request-ID": "trace-0001"})
    assert kept.headers["X-Request-ID"] == "trace-0001" and "X-Request-ID-Replaced" not in kept.headers


def test_a_405_says_which_methods_are_allowed(client):
    response = client.delete("/v1/claims", headers=headers("admin"))
    problem = _problem(response, 405)
    assert problem["code"] == "method_not_allowed" and "GET" in response.headers["Allow"]


@pytest.mark.parametrize("content", [b"[" * 100_000 + b"]" * 100_000, b'{"policy_number": "\xff\xfe"}'])
def test_unreadable_json_is_a_422_problem(client, content):
    response = client.post(
        "/v1/claims",
        content=content,
        headers={**headers("claims_system"), "Content-Type": "application/json"},
    )
    assert _problem(response, 422)["errors"][0]["field"] == "body"


def test_a_body_over_the_limit_is_refused_even_without_a_length(client):
    def chunks():
        for _ in range(40):
            yield b" " * 100_000  # 4 MB in all, over the 2 MB limit, sent chunked

    response = client.post(
        "/v1/claims",
        content=chunks(),
        headers={**headers("claims_system"), "Content-Type": "application/json"},
    )
    assert _problem(response, 413)["code"] == "payload_too_large"
    anonymous = client.post("/v1/claims", content=chunks(), headers={"Content-Type": "application/json"})
    assert _problem(anonymous, 401)["code"] == "unauthorized"


def test_an_unexpected_failure_is_a_problem_with_the_request_id(flow, client, monkeypatch):
    claim = flow.report()

    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "detail", broken)
    response = client.get(
        f"/v1/claims/{claim['claim_number']}", headers=headers("analyst", **{"X-Request-ID": "bug-1"})
    )
    problem = _problem(response, 500)
    assert problem["code"] == "internal_error" and problem["request_id"] == "bug-1"
    assert "a bug" not in json.dumps(problem)  # the traceback goes to the log, not to the caller
    monkeypatch.undo()
    assert client.get(f"/v1/claims/{claim['claim_number']}", headers=headers("analyst")).status_code == 200


def test_an_unknown_status_filter_is_refused_not_an_empty_list(client):
    problem = _problem(client.get("/v1/claims?status=bogus", headers=headers("analyst")), 422)
    assert problem["errors"][0]["field"] == "status"


def test_a_check_across_fields_names_the_field_at_fault(flow, client):
    body = claim_body(flow.policy())
    body["report_date"] = "2000-01-01"
    problem = _problem(client.post("/v1/claims", json=body, headers=headers("claims_system")), 422)
    assert problem["errors"] == [{"field": "report_date", "message": "must not be before the incident"}]
