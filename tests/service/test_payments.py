"""Money moves exactly once: idempotency keys, limits, and 20 concurrent retries."""

from concurrent.futures import ThreadPoolExecutor

from tests.service.conftest import Flow, headers


def test_retry_with_the_same_key_returns_the_same_payment(flow):
    claim = flow.approved_claim()
    first = flow.pay(claim, "retry-key-0001")
    again = flow.pay(claim, "retry-key-0001", expect=200)
    assert again == first
    detail = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert len(detail["payments"]) == 1 and detail["paid_amount"] == "3700.00"


def test_the_same_key_for_a_different_request_is_refused(flow):
    claim = flow.approved_claim()
    flow.pay(claim, "reuse-key-0001", amount="1000.00")
    problem = flow.pay(claim, "reuse-key-0001", expect=409, amount="2000.00")
    assert problem["field"] == "Idempotency-Key"


def test_partial_payments_never_exceed_the_approved_amount(flow):
    claim = flow.approved_claim()
    flow.pay(claim, "part-key-0001", amount="1200.00")
    detail = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert detail["status"] == "approved" and detail["paid_amount"] == "1200.00"
    too_much = flow.pay(claim, "part-key-0002", expect=422, amount="2500.01")
    assert too_much["field"] == "amount" and "2500.00" in too_much["detail"]
    rest = flow.pay(claim, "part-key-0003", method="cheque")
    assert rest["amount"] == "2500.00" and rest["method"] == "cheque"
    detail = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert detail["status"] == "paid" and detail["paid_amount"] == "3700.00"


def test_the_idempotency_key_header_is_required(flow, client):
    claim = flow.approved_claim()
    response = client.post(
        f"/v1/claims/{claim['claim_number']}/payments",
        json={"method": "cheque"},
        headers=headers("claims_system"),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_twenty_concurrent_retries_with_one_key_make_exactly_one_payment(committed_client):
    flow = Flow(committed_client)
    claim = flow.approved_claim()
    path = f"/v1/claims/{claim['claim_number']}/payments"

    def attempt(_: int):
        return committed_client.post(
            path,
            json={"method": "bank_transfer"},
            headers=headers("claims_system", **{"Idempotency-Key": "same-key-20x"}),
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        responses = list(pool.map(attempt, range(20)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1 and codes.count(200) == 19, codes
    assert len({r.json()["reference"] for r in responses}) == 1
    runtime = committed_client.app.state.runtime
    with runtime.db.connect() as connection:
        from sqlalchemy import text

        count = connection.execute(
            text(
                "SELECT count(*), sum(amount) FROM payments p JOIN claims c ON c.id = p.claim_id "
                "WHERE c.claim_number = :n"
            ),
            {"n": claim["claim_number"]},
        ).one()
    assert count[0] == 1 and str(count[1]) in ("3700.00", "3700")
    detail = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert detail["status"] == "paid" and detail["paid_amount"] == "3700.00"


def test_concurrent_payments_with_different_keys_never_overpay(committed_client):
    flow = Flow(committed_client)
    claim = flow.approved_claim()
    path = f"/v1/claims/{claim['claim_number']}/payments"

    def attempt(i: int):
        return committed_client.post(
            path,
            json={"method": "bank_transfer", "amount": "1000.00"},
            headers=headers("claims_system", **{"Idempotency-Key": f"many-keys-{i:03d}"}),
        )

    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(attempt, range(10)))
    paid = [r for r in responses if r.status_code == 201]
    assert 1 <= len(paid) <= 3  # 3 x 1000 fit in 3700; the rest are refused or lose the race
    assert all(r.status_code in (201, 409, 422) for r in responses)
    detail = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert detail["paid_amount"] == f"{1000 * len(paid)}.00"
    assert len(detail["payments"]) == len(paid)
