"""The payee: changed only as its own recorded step, re-scored, and verified before any payment."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from service import audit, lifecycle
from service.adjudication import assess, open_investigation
from service.claims.schemas import PayeeChange
from service.errors import Conflict, Unprocessable
from service.models.claims import Claim
from service.runtime import Runtime
from service.security import Principal


def change(
    session: Session, runtime: Runtime, claim: Claim, data: PayeeChange, who: Principal, request_id: str
) -> Claim:
    """Change the account a claim is paid to; re-score the claim and hold payment until verified."""
    lifecycle.check(claim.status, "change_payee")
    if data.payee_account == claim.payee_account:
        raise Unprocessable(f"{data.payee_account} is already the claim's payee", field="payee_account")
    old = claim.payee_account
    claim.payee_account, claim.payee_verified = data.payee_account, False
    claim.payee_changed_at = dt.datetime.now(dt.UTC)
    # The account change is a fraud signal: score the claim again with it as a fact.
    assessment = assess(session, runtime, claim)
    score = assessment.score
    if score is not None:
        claim.risk_score, claim.risk_band = score.score, score.band
    audit.by_person(
        session,
        claim,
        who,
        kind="payee_changed",
        outcome={
            "from": old,
            "to": data.payee_account,
            "reason": data.reason,
            "payee_verified": False,
            "risk": None
            if score is None
            else {"score": score.score, "band": score.band, "factors": list(score.factors)},
        },
        model=(score.model_name, score.model_version) if score else None,
        request_id=request_id,
    )
    if assessment.result.investigate:
        open_investigation(session, claim, score, request_id)
    return claim


def verify(session: Session, claim: Claim, who: Principal, request_id: str) -> Claim:
    """A specialist confirms the new payee with the customer: payment may go ahead."""
    lifecycle.check(claim.status, "verify_payee")
    if claim.payee_verified:
        raise Conflict("the claim's payee needs no verification", state="payee_verified")
    claim.payee_verified = True
    audit.by_person(
        session,
        claim,
        who,
        kind="payee_verified",
        outcome={"payee": claim.payee_account, "payee_verified": True},
        request_id=request_id,
    )
    return claim
