"""Every endpoint checks its roles: 401 without a key, 403 with the wrong role."""

import pytest

from service.security import ROLES
from tests.service.conftest import KEYS, headers

READ = {"claims_system", "specialist", "senior_reviewer", "investigator", "analyst", "risk_team", "admin"}
C = "/v1/claims/CLM-2026-0000000"
MATRIX = [
    ("POST", "/v1/policies", {"claims_system", "admin"}),
    ("GET", "/v1/policies/NOPE-0001", READ),
    ("POST", "/v1/claims", {"claims_system", "admin"}),
    ("GET", "/v1/claims", READ),
    ("GET", C, READ),
    ("GET", f"{C}/decisions", READ),
    ("GET", f"{C}/explain", READ),
    ("GET", "/v1/reports/sla", {"analyst", "risk_team", "senior_reviewer", "admin"}),
    ("POST", "/v1/rulebooks/motor/versions/9.9/shadow", {"analyst", "admin"}),
    ("POST", f"{C}/documents", {"claims_system", "specialist", "admin"}),
    ("PATCH", f"{C}/documents/1", {"specialist", "senior_reviewer", "admin"}),
    ("POST", f"{C}/adjudicate", {"specialist", "senior_reviewer", "admin"}),
    ("POST", f"{C}/reviews", {"specialist", "senior_reviewer", "admin"}),
    ("POST", f"{C}/decision", {"specialist", "senior_reviewer", "admin"}),
    ("POST", f"{C}/payments", {"claims_system", "admin"}),
    ("POST", f"{C}/withdraw", {"claims_system", "admin"}),
    ("POST", f"{C}/close", {"claims_system", "specialist", "admin"}),
    ("GET", "/v1/investigations", {"investigator", "risk_team", "admin"}),
    ("POST", "/v1/investigations/999999/outcome", {"investigator", "admin"}),
]


@pytest.mark.parametrize(("method", "path", "allowed"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_endpoint_by_role(client, method, path, allowed):
    response = client.request(method, path, json={})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert client.request(method, path, json={}, headers={"X-API-Key": "wrong"}).status_code == 401
    for role in ROLES:
        response = client.request(
            method, path, json={}, headers=headers(role, **{"Idempotency-Key": "matrix-key-01"})
        )
        if role in allowed:
            assert response.status_code not in (401, 403), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.text)
            assert response.json()["role"] == role


def test_open_endpoints(client):
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    assert ready.json()["model"] == "fraud-risk@test"
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 200


def test_bearer_tokens_work_too(client):
    response = client.get("/v1/claims", headers={"Authorization": f"Bearer {KEYS['analyst']}"})
    assert response.status_code == 200


def test_keys_are_stored_hashed(client):
    stored = client.app.state.runtime.keys
    assert KEYS["analyst"] not in stored
    assert all(len(k) == 64 for k in stored)
