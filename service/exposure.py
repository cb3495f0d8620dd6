"""Case reserves and policy exposure: what a claim may still cost, and what its policy has left.

A claim holds `reserve + paid_amount` of its policy's sum insured: the reserve is set from the
payable amount at adjudication, moved by reviews and decisions, drawn down by payments and
released at denial, withdrawal and closure. Whatever changes what a claim holds first locks
the policy row (PostgreSQL; on SQLite every writing unit of work already holds the database's
write lock), so what two claims hold can never together pass the sum insured.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from service.errors import Conflict
from service.models.claims import Claim, ClaimEvent
from service.models.policies import Policy

ZERO = Decimal("0.00")
HELD = Claim.reserve + Claim.paid_amount  # what one claim holds of its policy's sum insured
HELD_ELSEWHERE = select(func.coalesce(func.sum(HELD), 0)).where(
    Claim.policy_id == bindparam("policy_id"), Claim.id != bindparam("claim_id")
)
LOCK = select(Policy.id).where(Policy.id == bindparam("policy_id")).with_for_update()
LOCK_BY_CLAIM = (
    select(Policy.id)
    .join(Claim, Claim.policy_id == Policy.id)
    .where(Claim.claim_number == bindparam("claim_number"))
    .with_for_update(of=Policy)
)
LOCKED = "locked_policies"


@event.listens_for(Session, "after_transaction_end")
def _forget_locks(session: Session, transaction: SessionTransaction) -> None:
    # Row locks end with the database transaction: a later one must take them again.
    if transaction.parent is None:
        session.info.pop(LOCKED, None)


def _lock(session: Session, statement, values: dict) -> None:
    if session.bind.dialect.name == "sqlite":
        return  # every writing unit of work already holds the database's write lock
    with session.no_autoflush:  # a pending change must not reach the database before the lock
        policy_id = session.connection().execute(statement, values).scalar()
    if policy_id is not None:
        session.info.setdefault(LOCKED, set()).add(policy_id)


def lock_policy(session: Session, policy_id: int) -> None:
    """Hold the policy's row until the unit of work ends: exposure changes on it go one at a time."""
    if policy_id not in session.info.get(LOCKED, ()):
        _lock(session, LOCK, {"policy_id": policy_id})


def lock_for_claim(session: Session, claim_number: str) -> None:
    """Lock a claim's policy before the claim is read: every writer on one policy's claims then
    takes the same lock first, and two of them cannot each hold what the other waits for.
    """
    _lock(session, LOCK_BY_CLAIM, {"claim_number": claim_number})


def held_elsewhere(session: Session, claim: Claim) -> Decimal:
    """Return what the policy's other claims hold: their reserves and what they were paid."""
    values = {"policy_id": claim.policy_id, "claim_id": claim.id if claim.id is not None else -1}
    with session.no_autoflush:
        held = session.connection().execute(HELD_ELSEWHERE, values).scalar_one()
    return Decimal(held).quantize(Decimal("0.01"))


def check(session: Session, claim: Claim, holding: Decimal, doing: str) -> None:
    """Refuse (409) to let the claim hold more than its policy has left; the caller holds the lock."""
    elsewhere = held_elsewhere(session, claim)
    left = max(claim.policy.sum_insured - elsewhere, ZERO)
    if holding > left:
        others = f" (its other claims hold {elsewhere})" if elsewhere > 0 else ""
        raise Conflict(
            f"cannot {doing} {holding}: policy {claim.policy.policy_number} has {left} of its "
            f"sum insured {claim.policy.sum_insured} left for this claim{others}",
            rule="policy_exposure",
            amount=str(holding),
            remaining_exposure=str(left),
            sum_insured=str(claim.policy.sum_insured),
        )


def set_reserve(claim: Claim, amount: Decimal, why: str) -> None:
    """Move the claim's case reserve, keeping the change and its reason as a claim event."""
    amount = max(amount, ZERO).quantize(Decimal("0.01"))
    old = claim.reserve if claim.reserve is not None else ZERO
    if amount == old:
        return
    claim.events.append(
        ClaimEvent(kind="reserve", old=str(old), new=str(amount), why=why, at=dt.datetime.now(dt.UTC))
    )
    claim.reserve = amount


def release(claim: Claim, why: str) -> None:
    """Release the whole reserve (denied, withdrawn, closed)."""
    set_reserve(claim, ZERO, why)
