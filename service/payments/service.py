"""Payments: approved claims only, to the registered payee, never above the approved amount, once per key."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit, exposure, lifecycle
from service.errors import Conflict, Unprocessable
from service.models.claims import Claim
from service.models.payments import Payment
from service.outbox import service as outbox
from service.payments.schemas import PaymentIn
from service.runtime import Runtime
from service.security import Principal


def request_fingerprint(claim: Claim, data: PaymentIn) -> str:
    """Identify what was asked, so a reused key with a different request is refused."""
    return audit.sha256(audit.canonical({"claim": claim.claim_number, **data.model_dump(mode="json")}))


def _shown(payee: str, method: str) -> str:
    # An error message is logged and shown: name the account by its last digits only.
    return f"the registered account ending {payee[-4:]}" if method == "bank_transfer" else payee


def payee_for(claim: Claim, method: str) -> str:
    """Return who a payment goes to: the claim's account by transfer, the policyholder by cheque."""
    return claim.payee_account if method == "bank_transfer" else claim.policy.holder_name


def existing(session: Session, key: str) -> Payment | None:
    """Return the payment already made under an idempotency key."""
    return session.scalar(select(Payment).where(Payment.idempotency_key == key))


def replayed(claim: Claim, payment: Payment, data: PaymentIn) -> Payment:
    """Return the earlier payment for a retried request, or refuse a key reused for another."""
    if payment.claim_id != claim.id or payment.request_hash != request_fingerprint(claim, data):
        raise Conflict(
            "this Idempotency-Key was already used for a different payment request",
            field="Idempotency-Key",
        )
    return payment


def pay(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    data: PaymentIn,
    key: str,
    who: Principal,
    request_id: str,
) -> Payment:
    """Issue a payment for an approved claim (flushed; the caller commits once)."""
    lifecycle.check(claim.status, "pay")
    if claim.on_hold:
        raise Conflict("the claim is on hold for an investigation", state="on_hold")
    if not claim.payee_verified:
        raise Conflict(
            "the claim's payee was changed and waits for a specialist to verify it",
            state="payee_unverified",
            field="payee",
        )
    payee = payee_for(claim, data.method)
    if data.payee is not None and data.payee.strip() != payee:
        raise Unprocessable(
            f"payee must be {_shown(payee, data.method)}: a claim pays only its registered payee; "
            f"change it with PATCH /v1/claims/{claim.claim_number}/payee first",
            field="payee",
        )
    exposure.lock_policy(session, claim.policy_id)
    approved = claim.approved_amount or Decimal("0.00")
    left = approved - claim.paid_amount
    amount = data.amount if data.amount is not None else left
    if amount <= 0 or amount > left:
        raise Unprocessable(
            f"amount must be more than 0 and at most {left}, what is left to pay", field="amount"
        )
    payment = Payment(
        claim_id=claim.id,
        idempotency_key=key,
        request_hash=request_fingerprint(claim, data),
        method=data.method,
        amount=amount,
        payee=payee,
        reference=f"PAY-{claim.claim_number}-{audit.sha256(key)[:8].upper()}",
        created_by=who.name,
    )
    claim.payments.append(payment)
    claim.paid_amount = claim.paid_amount + amount
    exposure.set_reserve(claim, approved - claim.paid_amount, f"paid {payment.reference}")
    # Belt and braces: what the claim holds after paying is what was approved within the exposure.
    exposure.check(session, claim, claim.paid_amount + claim.reserve, "pay out")
    if claim.paid_amount == approved:
        lifecycle.apply(claim, "paid_in_full")
    audit.by_person(
        session,
        claim,
        who,
        kind="payment",
        outcome={"reference": payment.reference, "method": data.method, "status": claim.status},
        amount=amount,
        request_id=request_id,
    )
    outbox.paid(session, runtime, claim, payment, request_id)
    session.flush()
    return payment
