"""POST /v1/claims/{claim_number}/payments, idempotent by the Idempotency-Key header."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Response
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from service.deps import CurrentClaim, DbSession, RequestId, RuntimeDep, require
from service.payments import service
from service.payments.schemas import PaymentIn, PaymentOut
from service.security import MAY, Principal

router = APIRouter(prefix="/v1/claims", tags=["payments"])


def _out(
    payment,
    claim_number: str,
) -> PaymentOut:
    out = PaymentOut.model_validate(payment)
    out.claim_number = claim_number
    return out


@router.post("/{claim_number}/payments", status_code=201, response_model=PaymentOut)
def pay(
    who: Annotated[Principal, Depends(require(*MAY["pay"]))],
    body: PaymentIn,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
    response: Response,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", min_length=8, max_length=100)],
) -> PaymentOut:
    """Pay an approved claim; a retried request with the same key returns the same payment."""
    earlier = service.existing(session, idempotency_key)
    if earlier is not None:
        response.status_code = 200
        return _out(service.replayed(claim, earlier, body), claim.claim_number)
    try:
        payment = service.pay(session, runtime, claim, body, idempotency_key, who, request_id)
        out = _out(payment, claim.claim_number)
        session.commit()
    except (IntegrityError, StaleDataError):
        # Another request with this key (or on this claim) won the race: answer as a retry.
        session.rollback()
        earlier = service.existing(session, idempotency_key)
        if earlier is None:
            raise
        response.status_code = 200
        session.refresh(claim)
        return _out(service.replayed(claim, earlier, body), claim.claim_number)
    return out
