"""Every illegal transition is refused with 409 naming the state and the allowed actions."""

import pytest

from service import lifecycle
from service.errors import InvalidTransition

ACTIONS = sorted(lifecycle.REQUESTABLE)


@pytest.mark.parametrize("state", lifecycle.STATES)
@pytest.mark.parametrize("action", ACTIONS)
def test_the_table_allows_exactly_its_moves(state, action):
    if (state, action) in lifecycle.TRANSITIONS:
        assert lifecycle.check(state, action) in lifecycle.STATES
    else:
        with pytest.raises(InvalidTransition) as err:
            lifecycle.check(state, action)
        assert err.value.extra["state"] == state
        assert err.value.extra["allowed_actions"] == lifecycle.allowed_actions(state)


def test_terminal_states_allow_nothing():
    assert lifecycle.allowed_actions("closed") == []
    assert lifecycle.allowed_actions("withdrawn") == []


def _expect_409(flow, who, method, path, body, state):
    problem = flow.call(who, method, path, body, expect=409, **({"Idempotency-Key": "k-illegal-01"}))
    assert problem["code"] == "invalid_transition"
    assert problem["state"] == state
    assert problem["allowed_actions"] == lifecycle.allowed_actions(state)
    return problem


def test_illegal_moves_over_http_change_nothing(flow):
    pending = flow.report()
    n = pending["claim_number"]
    approve = {"outcome": "approve", "amount": "100.00"}
    review = {"stage": "preliminary", "recommendation": "approve"}
    _expect_409(flow, "specialist", "POST", f"/v1/claims/{n}/decision", approve, "documents_pending")
    _expect_409(flow, "specialist", "POST", f"/v1/claims/{n}/reviews", review, "documents_pending")
    _expect_409(
        flow, "claims_system", "POST", f"/v1/claims/{n}/payments", {"method": "cheque"}, "documents_pending"
    )
    _expect_409(flow, "claims_system", "POST", f"/v1/claims/{n}/close", None, "documents_pending")
    records = flow.call("analyst", "GET", f"/v1/claims/{n}/decisions")
    assert [r["kind"] for r in records] == ["reported", "adjudication", "message"]  # refusals write nothing

    approved = flow.approved_claim()
    m = approved["claim_number"]
    _expect_409(flow, "specialist", "POST", f"/v1/claims/{m}/decision", approve, "approved")
    _expect_409(flow, "claims_system", "POST", f"/v1/claims/{m}/withdraw", None, "approved")
    doc = {"doc_type": "claim_form", "file_name": "x.pdf", "sha256": "cd" * 32}
    _expect_409(flow, "claims_system", "POST", f"/v1/claims/{m}/documents", doc, "approved")
    _expect_409(flow, "specialist", "POST", f"/v1/claims/{m}/adjudicate", None, "approved")

    flow.pay(approved, "pay-illegal-0001")
    _expect_409(flow, "claims_system", "POST", f"/v1/claims/{m}/withdraw", None, "paid")
    flow.call("claims_system", "POST", f"/v1/claims/{m}/close")
    _expect_409(flow, "claims_system", "POST", f"/v1/claims/{m}/close", None, "closed")
