"""Rectification endpoints under /v1/rectifications."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from service.deps import DbSession, RowId, RuntimeDep, require
from service.rectification import service
from service.rectification.service import ClosureIn, RectificationIn
from service.security import MAY, Principal

router = APIRouter(prefix="/v1/rectifications", tags=["rectification"])
Reader = Annotated[Principal, Depends(require(*MAY["rectify"]))]


@router.post("", status_code=201)
def raise_rectification(
    who: Annotated[Principal, Depends(require(*MAY["supervise"]))],
    body: RectificationIn,
    session: DbSession,
    runtime: RuntimeDep,
) -> JSONResponse:
    """A rectification notice: owner, requirement and deadline (the policy's default if none)."""
    out = service.view(session, runtime, service.raise_notice(session, runtime, body, who))
    session.commit()
    return JSONResponse(out, status_code=201)


@router.get("")
def list_rectifications(
    _: Reader,
    session: DbSession,
    runtime: RuntimeDep,
    status: Literal["open", "closed"] | None = None,
    overdue: bool | None = None,
    escalated: bool | None = None,
) -> list[dict[str, Any]]:
    """Items, the earliest deadline first; `overdue=true` for those past it, `escalated=true` for
    those escalated to the supervising team."""
    return service.listing(session, runtime, status, overdue, escalated)


@router.get("/tracking")
def rectification_tracking(_: Reader, session: DbSession, runtime: RuntimeDep) -> dict[str, Any]:
    """Open, overdue, escalated, closed and on-time items per owning team and per source."""
    return service.tracking(session, runtime)


@router.get("/{rectification_id}")
def get_item(_: Reader, rectification_id: RowId, session: DbSession, runtime: RuntimeDep) -> dict[str, Any]:
    """One item: its owner, deadline, whether it is overdue or escalated, and its closure."""
    return service.view(session, runtime, service.get(session, rectification_id))


@router.post("/{rectification_id}/closure")
def close_rectification(
    who: Reader, rectification_id: RowId, body: ClosureIn, session: DbSession, runtime: RuntimeDep
) -> dict[str, Any]:
    """Close an item with the evidence it was put right (once)."""
    item = service.close(session, runtime, service.get(session, rectification_id), body, who)
    out = service.view(session, runtime, item)
    session.commit()
    return out
