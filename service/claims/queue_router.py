"""Work queues under /v1/queues: the caller's claims and each team's, the next SLA due first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from service.claims import queue
from service.claims.responses import Queue, QueueCount
from service.deps import DbSession, Offset, RuntimeDep, require
from service.security import CLAIM_READERS, Principal

router = APIRouter(prefix="/v1/queues", tags=["queues"])
Readers = Annotated[Principal, Depends(require(*CLAIM_READERS))]


@router.get("", response_model=list[QueueCount])
def queues(who: Readers, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    """Every team's queue with its counts; the caller's own teams marked."""
    return JSONResponse(queue.counts(session, runtime, who))


Limit = Annotated[int, Query(ge=1, le=500)]


def _page(name: str, items: list, limit: int, offset: int) -> JSONResponse:
    page = items[offset : offset + limit]
    return JSONResponse({"queue": name, "total": len(items), "limit": limit, "offset": offset, "items": page})


@router.get("/mine", response_model=Queue)
def mine(
    who: Readers, session: DbSession, runtime: RuntimeDep, limit: Limit = 50, offset: Offset = 0
) -> JSONResponse:
    """The claims the caller works, the next SLA due date first."""
    return _page(f"person/{who.name}", queue.mine(session, runtime, who), limit, offset)


@router.get("/teams/{team}", response_model=Queue)
def team(
    _: Readers,
    team: Annotated[str, Path(max_length=40)],
    session: DbSession,
    runtime: RuntimeDep,
    waiting: Annotated[bool, Query(description="only the claims nobody holds yet")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    """A team's open claims, the next SLA due date first."""
    return _page(f"team/{team}", queue.team_queue(session, runtime, team, waiting), limit, offset)
