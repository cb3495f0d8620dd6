"""Claim endpoints under /v1/claims."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from service import lifecycle
from service.claims import payee, queue, review, service, views
from service.claims.responses import ClaimDetail, ClaimPage, DocumentAdded, Explanation, MessageOut
from service.claims.schemas import (
    AssignmentIn,
    ClaimIn,
    DecisionIn,
    DocumentCheck,
    DocumentIn,
    PayeeChange,
    ReadjudicateIn,
    RecordOut,
    ReviewIn,
)
from service.deps import CurrentClaim, DbSession, Offset, RequestId, RowId, RuntimeDep, require
from service.models.claims import Claim
from service.outbox import service as outbox
from service.security import CLAIM_READERS, MAY, Principal

router = APIRouter(prefix="/v1/claims", tags=["claims"])
Who = Principal


def _answer(session: DbSession, runtime: RuntimeDep, claim: Claim, status: int = 200) -> JSONResponse:
    """The end of every write on a claim: its view, taken before the commit (no read-back), then the
    commit, then the answer."""
    out = views.detail(session, runtime, claim)
    session.commit()
    return JSONResponse(out, status_code=status)


@router.post(
    "",
    status_code=201,
    response_model=ClaimDetail,
    responses={200: {"model": ClaimDetail, "description": "a retry: the claim it made"}},
)
def report_claim(
    who: Annotated[Principal, Depends(require(*MAY["report"]))],
    body: ClaimIn,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=8, max_length=100)
    ] = None,
) -> JSONResponse:
    """First notice of loss: register, adjudicate, and say which documents to send.

    A retry with the same Idempotency-Key (or external_reference) and the same report returns
    the claim it made, with 200; the same key with another report is 409.
    """
    # The retry check and the claim's adjudication only read: done before the write lock is asked.
    with runtime.readers() as reader:
        earlier = service.reported_before(reader, body, who, idempotency_key)
        if earlier is not None:
            return JSONResponse(views.detail(reader, runtime, earlier), status_code=200)
        drafted = service.draft(reader, runtime, body, who, idempotency_key)
    try:
        claim, adjudication = service.report(
            session, runtime, body, who, request_id, idempotency_key, drafted=drafted
        )
        out = views.detail(session, runtime, claim, adjudication)
        session.commit()
        return JSONResponse(out, status_code=201)
    except IntegrityError:
        # A concurrent retry stored the claim first: answer as the retry this is.
        session.rollback()
        earlier = service.reported_before(session, body, who, idempotency_key)
        if earlier is None:
            raise
    return JSONResponse(views.detail(session, runtime, earlier), status_code=200)


@router.get("", response_model=ClaimPage)
def list_claims(
    _: Annotated[Principal, Depends(require(*CLAIM_READERS))],
    session: DbSession,
    runtime: RuntimeDep,
    status: Literal[lifecycle.STATES] | None = None,  # type: ignore[valid-type]
    route: Literal["simple", "complex", "major"] | None = None,
    risk_band: Literal["low", "medium", "high"] | None = None,
    sla: Literal["breached", "due_soon"] | None = None,
    external_reference: Annotated[str | None, Query(max_length=100)] = None,
    updated_since: Annotated[
        dt.datetime | None,
        Query(description="only claims changed at or after this moment (ISO 8601; no zone: UTC)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> JSONResponse:
    """List claims, newest first, filtered by status, route, risk band and SLA state.

    With `updated_since`, the claims changed since then, the least recently changed first. A
    change is stamped when its transaction begins: poll from a little before your last poll, or
    follow `/v1/events`, which misses nothing.
    """
    query = select(Claim).options(selectinload(Claim.events), selectinload(Claim.reviews))
    filters = (
        (Claim.status, status),
        (Claim.route, route),
        (Claim.risk_band, risk_band),
        (Claim.external_reference, external_reference),
    )
    for column, value in filters:
        if value is not None:
            query = query.where(column == value)
    if updated_since is not None:
        since = updated_since if updated_since.tzinfo else updated_since.replace(tzinfo=dt.UTC)
        query = query.where(Claim.updated_at >= since).order_by(Claim.updated_at, Claim.id)
    else:
        query = query.order_by(Claim.id.desc())
    if sla is None:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        page = session.scalars(query.limit(limit).offset(offset))
        rows = [views.summary(c, session, runtime) for c in page]
    else:
        # SLA state is computed, not stored: filter the claims whose clocks can still run.
        key = "sla_breached" if sla == "breached" else "sla_due_soon"
        live = query.where(Claim.status.in_(lifecycle.LIVE))
        shown = (views.summary(c, session, runtime) for c in session.scalars(live))
        matching = [row for row in shown if row[key]]
        total, rows = len(matching), matching[offset : offset + limit]
    return JSONResponse({"total": total, "limit": limit, "offset": offset, "items": rows})


@router.get("/{claim_number}", response_model=ClaimDetail)
def get_claim(
    _: Annotated[Principal, Depends(require(*CLAIM_READERS))],
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
) -> JSONResponse:
    """Return a claim: state, route, risk, documents, reviews, payments."""
    return JSONResponse(views.detail(session, runtime, claim))


@router.get("/{claim_number}/messages", response_model=list[MessageOut])
def messages(
    _: Annotated[Principal, Depends(require(*CLAIM_READERS))],
    claim: CurrentClaim,
    session: DbSession,
) -> JSONResponse:
    """The messages to the customer about this claim, oldest first, with their delivery status."""
    return JSONResponse(outbox.messages_of(session, claim))


@router.get("/{claim_number}/decisions", response_model=list[RecordOut])
def decisions(
    _: Annotated[Principal, Depends(require(*CLAIM_READERS))],
    claim: CurrentClaim,
    session: DbSession,
) -> Any:
    """Return the claim's decision records, oldest first."""
    return views.records(session, claim)


@router.post("/{claim_number}/documents", status_code=201, response_model=DocumentAdded)
def add_document(
    who: Annotated[Principal, Depends(require(*MAY["add_document"]))],
    body: DocumentIn,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Register a received document; a complete checklist moves the claim to review."""
    document = service.add_document(session, runtime, claim, body, who, request_id)
    out = {"document_id": document.id, "claim": views.detail(session, runtime, claim)}
    session.commit()
    return JSONResponse(out, status_code=201)


@router.patch("/{claim_number}/documents/{doc_id}", response_model=ClaimDetail)
def check_document(
    who: Annotated[Principal, Depends(require(*MAY["check_document"]))],
    doc_id: RowId,
    body: DocumentCheck,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Mark a document verified or rejected with a reason."""
    service.check_document(session, runtime, claim, doc_id, body, who, request_id)
    return _answer(session, runtime, claim)


@router.post("/{claim_number}/adjudicate", response_model=ClaimDetail)
def readjudicate(
    who: Annotated[Principal, Depends(require(*MAY["readjudicate"]))],
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
    body: ReadjudicateIn | None = None,
) -> JSONResponse:
    """Re-run rules and risk (by the version in force at the report date, or a named one); recorded."""
    service.readjudicate(session, runtime, claim, who, request_id, body)
    return _answer(session, runtime, claim)


@router.post("/{claim_number}/reviews", status_code=201, response_model=ClaimDetail)
def add_review(
    who: Annotated[Principal, Depends(require(*MAY["review"]))],
    body: ReviewIn,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Record a preliminary (specialist) or senior review."""
    review.add_review(session, runtime, claim, body, who, request_id)
    return _answer(session, runtime, claim, 201)


@router.post("/{claim_number}/assignment", response_model=ClaimDetail)
def assignment(
    who: Annotated[Principal, Depends(require(*MAY["assignment"]))],
    body: AssignmentIn,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Take the claim from its team's queue, give it back, or (a senior reviewer) reassign it."""
    queue.change(session, runtime, claim, body, who, request_id)
    return _answer(session, runtime, claim)


@router.post("/{claim_number}/decision", response_model=ClaimDetail)
def decide(
    who: Annotated[Principal, Depends(require(*MAY["decide"]))],
    body: DecisionIn,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Approve or deny the claim."""
    review.decide(session, runtime, claim, body, who, request_id)
    return _answer(session, runtime, claim)


@router.patch("/{claim_number}/payee", response_model=ClaimDetail)
def change_payee(
    who: Annotated[Principal, Depends(require(*MAY["change_payee"]))],
    body: PayeeChange,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Change the account the claim is paid to: re-scored, and payment held until verified."""
    payee.change(session, runtime, claim, body, who, request_id)
    return _answer(session, runtime, claim)


@router.post("/{claim_number}/payee/verify", response_model=ClaimDetail)
def verify_payee(
    who: Annotated[Principal, Depends(require(*MAY["verify_payee"]))],
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Confirm a changed payee with the customer; payment may go ahead."""
    payee.verify(session, claim, who, request_id)
    return _answer(session, runtime, claim)


@router.post("/{claim_number}/withdraw", response_model=ClaimDetail)
def withdraw(
    who: Annotated[Principal, Depends(require(*MAY["withdraw"]))],
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Withdraw an open claim at the customer's request."""
    service.move(session, claim, "withdraw", who, request_id)
    return _answer(session, runtime, claim)


@router.post("/{claim_number}/close", response_model=ClaimDetail)
def close(
    who: Annotated[Principal, Depends(require(*MAY["close"]))],
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> JSONResponse:
    """Close a paid or denied claim."""
    service.move(session, claim, "close", who, request_id)
    return _answer(session, runtime, claim)


@router.get("/{claim_number}/explain", response_model=Explanation)
def explain(
    _: Annotated[Principal, Depends(require(*CLAIM_READERS))],
    claim: CurrentClaim,
    session: DbSession,
) -> JSONResponse:
    """Why not: for the claim's latest decision, each rule, whether it fired, and what failed."""
    return JSONResponse(views.explanation(session, claim))
