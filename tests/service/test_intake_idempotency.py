"""Idempotent intake: a retried first notice of loss never makes a second claim."""

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import text

from tests.service.conftest import Flow, claim_body, headers


def _report(client, body: dict, key: str | None = None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post("/v1/claims", json=body, headers=headers("claims_system", **extra))


def test_a_retry_with_the_same_key_returns_the_same_claim(flow, client):
    body = claim_body(flow.policy())
    first = _report(client, body, "fnol-key-0001")
    again = _report(client, body, "fnol-key-0001")
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["claim_number"] == first.json()["claim_number"]
    other = _report(client, {**body, "claimed_amount": "5000.00"}, "fnol-key-0001")
    assert other.status_code == 409 and other.json()["field"] == "Idempotency-Key"
    assert other.json()["claim_number"] == first.json()["claim_number"]
    assert _report(client, body).status_code == 201  # no key: a new claim, as before


def test_an_external_reference_finds_the_claim_again(flow, client):
    body = {**claim_body(flow.policy()), "external_reference": "CS-2026-000123"}
    first = _report(client, body)
    assert first.status_code == 201 and first.json()["external_reference"] == "CS-2026-000123"
    assert _report(client, body).json()["claim_number"] == first.json()["claim_number"]
    clash = _report(client, {**body, "claimed_amount": "9.99"})
    assert clash.status_code == 409 and clash.json()["field"] == "external_reference"
    found = flow.call("analyst", "GET", "/v1/claims?external_reference=CS-2026-000123")
    assert [c["claim_number"] for c in found["items"]] == [first.json()["claim_number"]]


def test_fifty_concurrent_retries_make_exactly_one_claim(committed_client):
    flow = Flow(committed_client)
    body = claim_body(flow.policy())
    with ThreadPoolExecutor(max_workers=50) as pool:
        responses = list(pool.map(lambda _: _report(committed_client, body, "fnol-race-50x"), range(50)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(200) == 49, [
        r.text for r in responses if r.status_code >= 300
    ]
    assert len({r.json()["claim_number"] for r in responses}) == 1
    with committed_client.app.state.runtime.db.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM claims WHERE idempotency_key = 'fnol-race-50x'")
        ).scalar_one()
    assert stored == 1
