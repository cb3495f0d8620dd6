"""Complaint endpoints under /v1/complaints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from service.complaints import service
from service.complaints.schemas import ComplaintIn, HandOverIn, ResolutionIn, ResponseIn
from service.deps import DbSession, From, Offset, RowId, RuntimeDep, To, period, require
from service.security import MAY, SUPERVISORS, Principal

router = APIRouter(prefix="/v1/complaints", tags=["complaints"])
Handler = Annotated[Principal, Depends(require(*MAY["handle_complaint"]))]
Reader = Annotated[Principal, Depends(require(*MAY["complaints"]))]
Mover = Annotated[Principal, Depends(require(*MAY["handle_complaint"], *SUPERVISORS))]


@router.post("", status_code=201)
def receive_complaint(
    who: Annotated[Principal, Depends(require(*MAY["complain"]))],
    body: ComplaintIn,
    session: DbSession,
    runtime: RuntimeDep,
) -> JSONResponse:
    """Record a complaint or inquiry; its first-response and resolution clocks start now."""
    complaint = service.receive(session, runtime, body, who)
    out = service.view(session, complaint)
    session.commit()
    return JSONResponse(out, status_code=201)


@router.get("")
def list_complaints(
    _: Reader,
    session: DbSession,
    status: Literal["open", "responded", "resolved"] | None = None,
    claim_number: Annotated[str | None, Query(max_length=30)] = None,
    owner: Annotated[str | None, Query(max_length=80, description="the member who handles them")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    """Complaints, newest first; of one claim with `claim_number`."""
    return service.listing(session, status, claim_number, limit, offset, owner)


@router.get("/statistics")
def complaint_statistics(
    _: Reader,
    session: DbSession,
    runtime: RuntimeDep,
    start: From,
    end: To,
) -> dict[str, Any]:
    """Complaints received in a period by category, cause, line, channel and month; within-SLA shares."""
    start, end = period(start, end)
    return service.statistics(session, runtime, start, end)


@router.get("/{complaint_id}")
def get_complaint(_: Reader, complaint_id: RowId, session: DbSession) -> dict[str, Any]:
    """One complaint with its clocks."""
    return service.view(session, service.get(session, complaint_id))


@router.post("/{complaint_id}/response")
def respond_to_complaint(
    who: Handler, complaint_id: RowId, body: ResponseIn, session: DbSession, runtime: RuntimeDep
) -> dict[str, Any]:
    """Give the first response (once)."""
    complaint = service.respond(session, runtime, service.get(session, complaint_id), body, who)
    out = service.view(session, complaint)
    session.commit()
    return out


@router.post("/{complaint_id}/resolution")
def resolve_complaint(
    who: Handler, complaint_id: RowId, body: ResolutionIn, session: DbSession, runtime: RuntimeDep
) -> dict[str, Any]:
    """Resolve it with its cause and whether it was upheld (once)."""
    complaint = service.resolve(session, runtime, service.get(session, complaint_id), body, who)
    out = service.view(session, complaint)
    session.commit()
    return out


@router.post("/{complaint_id}/assignment")
def hand_over_complaint(
    who: Mover,
    complaint_id: RowId,
    body: HandOverIn,
    session: DbSession,
    runtime: RuntimeDep,
) -> dict[str, Any]:
    """Give the complaint to another member of its team (its owner or a supervisor)."""
    complaint = service.hand_over(session, runtime, service.get(session, complaint_id), body, who)
    out = service.view(session, complaint)
    session.commit()
    return out
