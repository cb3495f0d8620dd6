"""Network indicators: other policies' recent claims paid into the same account or giving the
same phone, as facts for the rulebooks and inputs for the model; a ring is referred, never denied."""

from tests.service.conftest import Flow


def test_an_account_three_other_policies_were_paid_into_refers_the_claim_to_investigation(flow: Flow):
    account = "6222 7777 0000 0001"
    earlier = [flow.report(policy=flow.policy(), payee_account=account) for _ in range(2)]
    assert all(
        "SHARED_CONTACT_NETWORK" not in [r["code"] for r in c["adjudication"]["reasons"]] for c in earlier
    )
    two = flow.report(policy=flow.policy(), payee_account=account)  # shared with two: a household, say
    assert "SHARED_CONTACT_NETWORK" not in [r["code"] for r in two["adjudication"]["reasons"]]
    ring = flow.report(policy=flow.policy(), payee_account=account)
    reasons = {r["code"]: r for r in ring["adjudication"]["reasons"]}
    assert "SHARED_CONTACT_NETWORK" in reasons and ring["route"] == "complex"
    assert "shared with 3 other policies" in reasons["SHARED_CONTACT_NETWORK"]["internal"]
    assert ring["on_hold"] is True and ring["investigation"]["status"] == "open"  # referred
    assert ring["status"] != "denied" and ring["coverage"] != "not_covered"  # never denied for it
    why = flow.call("analyst", "GET", f"/v1/claims/{ring['claim_number']}/explain")
    assert why["facts"]["payee_shared_policies"] == 3


def test_a_phone_shared_by_other_policies_counts_too_and_the_same_policy_does_not(flow: Flow):
    phone = "+86 21 6000 0001"
    policy = flow.policy()
    for _ in range(3):
        flow.report(policy=policy, contact_phone=phone, payee_account="6222 7777 0000 0002")
    own = flow.report(policy=policy, contact_phone=phone, payee_account="6222 7777 0000 0002")
    facts = flow.call("analyst", "GET", f"/v1/claims/{own['claim_number']}/explain")["facts"]
    assert facts["phone_shared_policies"] == 0 and facts["payee_shared_policies"] == 0  # one policy
    for _ in range(2):
        flow.report(policy=flow.policy(), contact_phone=phone)
    ring = flow.report(policy=flow.policy(), contact_phone=phone)
    assert "SHARED_CONTACT_NETWORK" in [r["code"] for r in ring["adjudication"]["reasons"]]
