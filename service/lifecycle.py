"""The claim lifecycle: every status change goes through `apply`, one table of legal moves."""

from __future__ import annotations

from service.errors import InvalidTransition

OPEN = ("reported", "documents_pending", "under_review", "senior_review")
STATES = (*OPEN, "approved", "denied", "paid", "closed", "withdrawn")
LIVE = (*OPEN, "approved")  # states whose SLA clocks can still run (an approved claim awaits payment)

# (current state, action) -> next state. Anything else is refused with 409.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("reported", "request_documents"): "documents_pending",
    ("reported", "start_review"): "under_review",
    ("documents_pending", "documents_complete"): "under_review",
    ("under_review", "documents_incomplete"): "documents_pending",
    ("senior_review", "documents_incomplete"): "documents_pending",
    ("under_review", "preliminary_review"): "under_review",
    ("under_review", "escalate"): "senior_review",
    ("senior_review", "senior_review"): "senior_review",
    ("under_review", "approve"): "approved",
    ("senior_review", "approve"): "approved",
    ("documents_pending", "deny"): "denied",
    ("under_review", "deny"): "denied",
    ("senior_review", "deny"): "denied",
    ("approved", "pay"): "approved",
    ("approved", "paid_in_full"): "paid",
    ("paid", "close"): "closed",
    ("denied", "close"): "closed",
    **{(state, "adjudicate"): state for state in OPEN},
    **{(state, "add_document"): state for state in ("documents_pending", "under_review", "senior_review")},
    **{(state, "check_document"): state for state in ("documents_pending", "under_review", "senior_review")},
    **{(state, "withdraw"): "withdrawn" for state in OPEN},
    **{(state, "change_payee"): state for state in LIVE},
    **{(state, "verify_payee"): state for state in LIVE},
}
# Actions a caller can ask for (the rest are taken by the service itself).
REQUESTABLE = {
    "add_document",
    "check_document",
    "adjudicate",
    "preliminary_review",
    "senior_review",
    "approve",
    "deny",
    "pay",
    "close",
    "withdraw",
    "change_payee",
    "verify_payee",
}


def allowed_actions(state: str) -> list[str]:
    """Return the actions a caller may take on a claim in this state."""
    return sorted(a for (s, a) in TRANSITIONS if s == state and a in REQUESTABLE)


def check(state: str, action: str) -> str:
    """Return the state an action leads to, or raise 409 naming the state and what is allowed."""
    target = TRANSITIONS.get((state, action))
    if target is None:
        raise InvalidTransition(
            f"cannot {action.replace('_', ' ')} a claim that is {state.replace('_', ' ')}",
            state=state,
            action=action,
            allowed_actions=allowed_actions(state),
        )
    return target


def apply(claim, action: str) -> str:
    """Move a claim by an action; raise 409 if the move is not legal."""
    claim.status = check(claim.status, action)
    return claim.status
