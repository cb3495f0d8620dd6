"""Authority, end to end: the limit applies to the amount approved, whatever path led there."""

from decimal import Decimal

from tests.service.conftest import Flow


def _decide(flow: Flow, who: str, claim: dict, expect: int, **body):
    return flow.call(
        who,
        "POST",
        f"/v1/claims/{claim['claim_number']}/decision",
        {"outcome": "approve", **body},
        expect=expect,
    )


def _reviewed(flow: Flow, **changes) -> dict:
    claim = flow.send_documents(flow.report(**changes))
    flow.review(claim, "specialist", "preliminary")
    return flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")


def test_a_specialist_alone_cannot_approve_far_above_the_payable_amount(flow):
    # The walk-around: reviewed at 3,700.00, then approved at 900,000.00 with a made-up override.
    claim = _reviewed(flow)
    assert claim["status"] == "under_review" and claim["payable_amount"] == "3700.00"
    made_up = _decide(flow, "specialist", claim, 422, amount="900000.00", override_reason_code="GOODWILL")
    assert made_up["field"] == "override_reason_code" and "EX_GRATIA" in made_up["allowed"]
    declared = _decide(flow, "specialist", claim, 403, amount="900000.00", override_reason_code="EX_GRATIA")
    assert declared["rule"] == "override_confirmation" and declared["payable_amount"] == "3700.00"
    after = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert after["status"] == "under_review" and after["approved_amount"] is None
    assert [r["kind"] for r in flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")][
        -1
    ] == "preliminary_review"


def test_an_override_is_confirmed_by_a_senior_reviewer_other_than_the_preliminary_one(flow):
    claim = _reviewed(flow)
    # li.wei made the preliminary review; her own senior key cannot confirm her override.
    same = _decide(flow, "senior_reviewer3", claim, 409, amount="3800.00", override_reason_code="EX_GRATIA")
    assert same["rule"] == "four_eyes"
    done = _decide(flow, "senior_reviewer", claim, 200, amount="3800.00", override_reason_code="EX_GRATIA")
    assert done["status"] == "approved" and done["approved_amount"] == "3800.00"
    record = [
        r
        for r in flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
        if r["kind"] != "message"
    ][-1]
    assert record["kind"] == "decision" and record["actor"] == "wang.fang"
    assert record["outcome"]["preliminary_reviewer"] == "li.wei"
    assert record["outcome"]["approved_by"] == "wang.fang"
    assert record["outcome"]["override_reason_code"] == "EX_GRATIA"


def test_a_personal_limit_below_the_role_limit_is_applied(flow, client, monkeypatch):
    settings = client.app.state.runtime.settings
    monkeypatch.setattr(settings, "authority_limits", {"li.wei": Decimal("2000.00")})
    claim = _reviewed(flow)
    refused = _decide(flow, "specialist", claim, 403, amount="3700.00")
    assert refused["rule"] == "authority_limit"
    assert refused["authority_limit"] == "2000.00" and refused["amount"] == "3700.00"
    assert "li.wei" in refused["detail"] and refused["may_approve"]
    # Another specialist, within the role's 50,000, may.
    assert _decide(flow, "specialist2", claim, 200, amount="3700.00")["status"] == "approved"


def test_above_the_senior_limit_two_different_senior_reviewers_are_needed(flow):
    policy = flow.policy(sum_insured="2000000.00")
    claim = flow.send_documents(flow.report(policy=policy, claimed_amount="800500.00"))
    assert claim["route"] == "major" and claim["payable_amount"] == "800000.00"
    flow.review(claim, "specialist", "preliminary")
    flow.review(claim, "senior_reviewer", "senior")
    alone = _decide(flow, "senior_reviewer", claim, 409, amount="800000.00")
    assert alone["rule"] == "dual_approval" and alone["missing"] == "senior_review"
    specialist = _decide(flow, "specialist2", claim, 403, amount="800000.00")
    assert "senior" in specialist["detail"]
    done = _decide(flow, "senior_reviewer2", claim, 200, amount="800000.00")
    assert done["status"] == "approved"
    record = [
        r
        for r in flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
        if r["kind"] != "message"
    ][-1]
    assert record["outcome"]["senior_reviewers"] == ["wang.fang"] and record["actor"] == "zhang.min"
