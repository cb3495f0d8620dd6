"""Reserves and policy exposure: two claims can never together take more than the sum insured."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from sqlalchemy import text

from service.claims import service
from service.claims.schemas import ClaimIn
from service.security import Principal
from tests.service.conftest import PEOPLE, Flow, claim_body, headers


def _held(client, policy: str) -> Decimal:
    with client.app.state.runtime.readers() as session:
        held = session.execute(
            text(
                "SELECT coalesce(sum(c.reserve + c.paid_amount), 0) FROM claims c "
                "JOIN policies p ON p.id = c.policy_id WHERE p.policy_number = :n"
            ),
            {"n": policy},
        ).scalar_one()
    return Decimal(held)


def _reserve(flow: Flow, claim: dict) -> str:
    return flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")["reserve"]


def test_the_reserve_follows_the_claim_from_intake_to_payment(flow):
    claim = flow.report()
    assert claim["reserve"] == claim["payable_amount"] == "3700.00"
    claim = flow.send_documents(claim)
    body = {"stage": "preliminary", "recommendation": "approve", "amount": "3500.00"}
    flow.call("specialist", "POST", f"/v1/claims/{claim['claim_number']}/reviews", body, expect=201)
    assert _reserve(flow, claim) == "3500.00"
    flow.approve(claim, "specialist", amount="3500.00")
    assert _reserve(flow, claim) == "3500.00"
    flow.pay(claim, "reserve-key-01", amount="1000.00")
    assert _reserve(flow, claim) == "2500.00"
    flow.pay(claim, "reserve-key-02")
    paid = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert paid["reserve"] == "0.00" and paid["paid_amount"] == "3500.00" and paid["status"] == "paid"
    moves = [(m["from"], m["to"], m["why"].split()[0]) for m in paid["reserve_history"]]
    assert moves == [
        ("0.00", "3700.00", "adjudicated:"),
        ("3700.00", "3500.00", "preliminary"),
        ("3500.00", "2500.00", "paid"),
        ("2500.00", "0.00", "paid"),
    ]


def test_denial_and_withdrawal_release_the_reserve(flow):
    denied = flow.report(facts={"driver_intoxicated": True})
    assert denied["reserve"] == "0.00"  # nothing payable, nothing reserved
    withdrawn = flow.report()
    assert withdrawn["reserve"] == "3700.00"
    after = flow.call("claims_system", "POST", f"/v1/claims/{withdrawn['claim_number']}/withdraw")
    assert after["reserve"] == "0.00"


def test_a_second_claim_on_the_policy_sees_what_the_first_holds(flow, client):
    # Two fire claims of 90,000 on one 100,000 policy: only 178,000 was ever possible to pay before.
    policy = flow.policy(sum_insured="100000.00", deductible="0.00")
    first = flow.send_documents(flow.report(policy=policy, peril="fire", claimed_amount="90000.00"))
    second = flow.send_documents(flow.report(policy=policy, peril="fire", claimed_amount="90000.00"))
    assert first["payable_amount"] == "90000.00"
    assert second["payable_amount"] == "10000.00"
    assert "SUM_INSURED_CAP" in [r["code"] for r in second["adjudication"]["reasons"]]
    for claim in (first, second):
        flow.review(claim, "specialist", "preliminary")
        flow.review(claim, "senior_reviewer", "senior")
    flow.approve(first, "senior_reviewer2")
    body = {"outcome": "approve", "amount": "90000.00", "override_reason_code": "EX_GRATIA"}
    refused = flow.call(
        "senior_reviewer2", "POST", f"/v1/claims/{second['claim_number']}/decision", body, expect=409
    )
    assert refused["rule"] == "policy_exposure" and refused["remaining_exposure"] == "10000.00"
    assert "10000.00" in refused["detail"]
    flow.approve(second, "senior_reviewer2")
    flow.pay(first, "exposure-key-1")
    flow.pay(second, "exposure-key-2")
    assert _held(client, policy) == Decimal("100000.00")


def test_a_review_cannot_reserve_beyond_the_policy(flow):
    policy = flow.policy(sum_insured="10000.00", deductible="0.00")
    flow.report(policy=policy, claimed_amount="6000.00")
    claim = flow.send_documents(flow.report(policy=policy, claimed_amount="6000.00"))
    assert claim["payable_amount"] == "4000.00"
    body = {"stage": "preliminary", "recommendation": "approve", "amount": "6000.00"}
    refused = flow.call("specialist", "POST", f"/v1/claims/{claim['claim_number']}/reviews", body, expect=409)
    assert refused["rule"] == "policy_exposure" and refused["remaining_exposure"] == "4000.00"
    assert flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")["reviews"] == []


def test_concurrent_approvals_on_one_policy_never_exceed_the_sum_insured(committed_client):
    """Each approval fits alone; together they would not. One wins, the other is refused."""
    flow = Flow(committed_client)
    policy = flow.policy(sum_insured="100000.00", deductible="0.00")
    a = flow.send_documents(flow.report(policy=policy, peril="fire", claimed_amount="50000.00"))
    b = flow.send_documents(flow.report(policy=policy, peril="fire", claimed_amount="40000.00"))
    for claim in (a, b):
        flow.review(claim, "specialist", "preliminary")
    flow.review(a, "senior_reviewer2", "senior")
    flow.review(b, "senior_reviewer", "senior")
    # 58,000 fits beside b's 40,000 reserve; 48,000 beside a's 50,000; both together do not.
    plan = [(a, "senior_reviewer", "58000.00"), (b, "senior_reviewer2", "48000.00")]
    start = threading.Barrier(len(plan))

    def approve(step):
        claim, who, amount = step
        start.wait()
        body = {"outcome": "approve", "amount": amount, "override_reason_code": "INDEPENDENT_ASSESSMENT"}
        return committed_client.post(
            f"/v1/claims/{claim['claim_number']}/decision", json=body, headers=headers(who)
        )

    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        responses = list(pool.map(approve, plan))
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 409], [r.text for r in responses]
    refused = next(r.json() for r in responses if r.status_code == 409)
    assert refused["rule"] == "policy_exposure"
    assert _held(committed_client, policy) <= Decimal("100000.00")


def test_the_reserves_report_sums_what_claims_still_hold(flow):
    before = flow.call("analyst", "GET", "/v1/reports/reserves")
    held = flow.report()  # 3,700.00 reserved
    health = flow.report(product="health", claimed_amount="1500.00")
    denied = flow.report(facts={"driver_intoxicated": True})  # nothing reserved
    report = flow.call("analyst", "GET", "/v1/reports/reserves")
    assert report["claims"] == before["claims"] + 2
    grown = Decimal(report["outstanding_reserve"]) - Decimal(before["outstanding_reserve"])
    assert Decimal(health["reserve"]) > 0
    assert grown == Decimal(held["reserve"]) + Decimal(health["reserve"])
    assert denied["reserve"] == "0.00"
    assert set(report["by_product"]) >= {"motor", "health"}
    assert report["by_age"]["0-30 days"]["claims"] >= 2
    assert flow.call("claims_system", "GET", "/v1/reports/reserves", expect=403)


def test_reconciliation_names_a_balance_changed_behind_the_services_back(flow, client):
    from sqlalchemy import text as sql

    from service.claims.balances import reconcile

    paid = flow.approved_claim()
    flow.pay(paid, "reconcile-key-1", amount="1000.00")
    with client.app.state.runtime.sessions() as session:
        assert reconcile(session) == []
        number = paid["claim_number"]
        session.execute(sql("UPDATE claims SET reserve = reserve + 1 WHERE claim_number = :n"), {"n": number})
        session.execute(sql("UPDATE payments SET amount = 999.00"))
        problems = reconcile(session)
    assert f"{number}: holds 3701.00 but 3700.00 was approved" in problems
    assert f"{number}: reserve 2701.00, its last recorded move was to 2700.00" in problems, problems
    assert f"{number}: its payments add up to 999.00, paid_amount says 1000.00" in problems
    assert any(p.startswith("payment PAY-") and "999.00, its record says 1000.00" in p for p in problems)


def test_reconciliation_names_money_columns_no_record_stands_behind(flow, client):
    from sqlalchemy import text as sql

    from service.claims.balances import reconcile

    claim = flow.approved_claim()
    flow.pay(claim, "reconcile-key-2")
    number = claim["claim_number"]
    with client.app.state.runtime.sessions() as session:
        assert reconcile(session) == []
        # Both columns raised together, so the claim's own balances still agree with each other.
        session.execute(
            sql("UPDATE claims SET approved_amount = 9700.00, paid_amount = 9700.00 WHERE claim_number = :n"),
            {"n": number},
        )
        session.execute(sql("UPDATE payments SET amount = 9700.00"))
        problems = reconcile(session)
    assert f"{number}: approved_amount 9700.00, its decision record says 3700.00" in problems
    assert f"{number}: paid_amount 9700.00, its payment records add up to 3700.00" in problems


def test_two_90000_claims_on_a_100000_policy_reported_and_approved_at_once(committed_client):
    """The issue's case, every step concurrent: intake sees the other's reserve, approval the rest."""
    flow = Flow(committed_client)
    policy = flow.policy(sum_insured="100000.00", deductible="0.00")
    body = claim_body(policy, peril="fire", claimed_amount="90000.00")
    bodies = [body, dict(body)]  # the same loss twice, reported at the same moment

    def report(claim):
        return committed_client.post("/v1/claims", json=claim, headers=headers("claims_system")).json()

    with ThreadPoolExecutor(max_workers=2) as pool:
        claims = list(pool.map(report, bodies))
    assert sorted(c["payable_amount"] for c in claims) == ["10000.00", "90000.00"]  # never 90,000 twice
    for claim in claims:
        claim = flow.send_documents(claim)
        flow.review(claim, "specialist", "preliminary")
        flow.review(claim, "senior_reviewer", "senior")
    start = threading.Barrier(2)

    def approve(claim):
        start.wait()
        decision = {"outcome": "approve", "amount": "90000.00", "override_reason_code": "EX_GRATIA"}
        return committed_client.post(
            f"/v1/claims/{claim['claim_number']}/decision", json=decision, headers=headers("senior_reviewer2")
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(approve, claims))
    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    refused = next(r.json() for r in responses if r.status_code == 409)
    assert refused.get("rule") == "policy_exposure", refused
    assert refused["remaining_exposure"] == "10000.00"
    assert _held(committed_client, policy) == Decimal("100000.00")  # 90,000 approved + 10,000 reserved


def test_a_claim_adjudicated_while_another_on_its_policy_lands_is_adjudicated_again(committed_client):
    """Intake adjudicates before it takes the write lock; what another claim changed meanwhile is
    read again under the lock, so the stale adjudication (90,000 of a 100,000 policy already
    90,000 reserved) is never the one stored."""
    flow = Flow(committed_client)
    runtime = committed_client.app.state.runtime
    policy = flow.policy(sum_insured="100000.00", deductible="0.00")
    body = claim_body(policy, peril="fire", claimed_amount="90000.00")
    data = ClaimIn.model_validate(body)
    who = Principal(PEOPLE["claims_system"], "claims_system")
    with runtime.readers() as reader:
        drafted = service.draft(reader, runtime, data, who, None)
    assert drafted[0].payable_amount == Decimal("90000.00")  # what the policy allowed when it was read
    first = flow.report(policy=policy, peril="fire", claimed_amount="90000.00")  # lands in between
    with runtime.sessions() as session:
        claim, record = service.report(session, runtime, data, who, "stale-draft", drafted=drafted)
        session.commit()
    assert first["payable_amount"] == "90000.00"
    assert claim.payable_amount == Decimal("10000.00") and claim.reserve == Decimal("10000.00")
    assert record.facts["sum_insured_remaining"] == "10000.00"
    assert _held(committed_client, policy) == Decimal("100000.00")


def test_an_unchanged_draft_is_stored_as_it_was_adjudicated(committed_client):
    """Nothing changed between the draft and the write: the draft's own assessment is the record."""
    flow = Flow(committed_client)
    runtime = committed_client.app.state.runtime
    data = ClaimIn.model_validate(claim_body(flow.policy(), claimed_amount="4200.00"))
    who = Principal(PEOPLE["claims_system"], "claims_system")
    with runtime.readers() as reader:
        drafted = service.draft(reader, runtime, data, who, None)
    with runtime.sessions() as session:
        claim, record = service.report(session, runtime, data, who, "fresh-draft", drafted=drafted)
        session.commit()
    assert claim is drafted[0]
    assert record.facts == drafted[1].facts
