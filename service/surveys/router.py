"""Satisfaction follow-up endpoints under /v1/surveys: the phone calls due, and recording one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from service.deps import DbSession, RequestId, RowId, RuntimeDep, require
from service.security import MAY, Principal
from service.surveys import service

router = APIRouter(prefix="/v1/surveys", tags=["surveys"])
Caller = Annotated[Principal, Depends(require(*MAY["follow_up"]))]


@router.get("/calls")
def calls_due(
    who: Caller, session: DbSession, runtime: RuntimeDep, mine: bool = False
) -> list[dict[str, Any]]:
    """Phone follow-ups still to make: the caller's teams' (`mine`: only the caller's own)."""
    return service.calls_due(session, runtime, who, mine)


@router.get("/{survey_id}")
def get_survey(_: Caller, session: DbSession, runtime: RuntimeDep, survey_id: RowId) -> dict[str, Any]:
    """One survey, online or by phone, with its answer once given."""
    return service.view(session, runtime, service.get(session, survey_id))


@router.post("/{survey_id}/calls")
def record_call(
    who: Caller,
    body: service.CallIn,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
    survey_id: RowId,
) -> dict[str, Any]:
    """One call to the customer: their rating if reached; after the policy's attempts it lapses."""
    survey = service.call(session, runtime, service.get(session, survey_id), body, who, request_id)
    out = service.view(session, runtime, survey)
    session.commit()
    return out
