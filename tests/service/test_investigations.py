"""High-risk claims open an investigation that holds the claim until it is cleared."""

import datetime as dt

from tests.service.conftest import claim_body


def _high_risk(flow):
    """A claim with many red flags on a new policy (new payee account, night, late, near limit)."""
    today = dt.date.today()
    policy = flow.policy(
        start_date=(today - dt.timedelta(days=40)).isoformat(),
        end_date=(today + dt.timedelta(days=324)).isoformat(),
        sum_insured="60000.00",
    )
    earlier = flow.call(
        "claims_system",
        "POST",
        "/v1/claims",
        claim_body(
            policy,
            claimed_amount="800.00",
            peril="glass",
            payee_account="6222 0000 9999 0000",
            incident_at=(dt.datetime.now() - dt.timedelta(days=30)).replace(microsecond=0).isoformat(),
        ),
        expect=201,
    )
    flow.call("claims_system", "POST", f"/v1/claims/{earlier['claim_number']}/withdraw")
    incident = dt.datetime.combine(today - dt.timedelta(days=33), dt.time(2, 30))
    return flow.call(
        "claims_system",
        "POST",
        "/v1/claims",
        claim_body(
            policy,
            claimed_amount="57000.00",
            incident_at=incident.isoformat(),
            payee_account="6217 8888 7777 6666",
            provider="Night Auto",
        ),
        expect=201,
    )


def test_high_risk_claim_is_held_until_cleared(flow):
    claim = _high_risk(flow)
    assert claim["risk"]["band"] == "high"
    assert claim["on_hold"] is True and claim["investigation"]["status"] == "open"
    assert "HIGH_FRAUD_RISK" in [r["code"] for r in claim["adjudication"]["reasons"]]
    assert claim["coverage"] != "not_covered"  # risk never denies by itself

    claim = flow.send_documents(claim)
    flow.review(claim, "specialist", "preliminary")
    flow.review(claim, "senior_reviewer", "senior")
    held = flow.approve(claim, "senior_reviewer", expect=409)
    assert held["state"] == "on_hold"

    open_ = flow.call("investigator", "GET", "/v1/investigations?status=open")
    mine = next(i for i in open_ if i["claim_number"] == claim["claim_number"])
    body = {"outcome": "cleared", "notes": "Receipts and CCTV check out."}
    done = flow.call("investigator", "POST", f"/v1/investigations/{mine['id']}/outcome", body)
    assert done["status"] == "cleared" and done["investigator"] == "liu.yang"
    again = flow.call("investigator", "POST", f"/v1/investigations/{mine['id']}/outcome", body, expect=409)
    assert again["state"] == "cleared"

    claim = flow.approve(claim, "senior_reviewer")
    assert claim["status"] == "approved" and claim["on_hold"] is False


def test_confirmed_fraud_keeps_the_hold(flow):
    claim = _high_risk(flow)
    open_ = flow.call("risk_team", "GET", "/v1/investigations")
    mine = next(i for i in open_ if i["claim_number"] == claim["claim_number"])
    flow.call(
        "investigator",
        "POST",
        f"/v1/investigations/{mine['id']}/outcome",
        {"outcome": "confirmed_fraud", "notes": "Staged accident."},
    )
    detail = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert detail["on_hold"] is True and detail["investigation"]["status"] == "confirmed_fraud"
    kinds = [r["kind"] for r in flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")]
    assert "investigation_opened" in kinds and "investigation_outcome" in kinds
