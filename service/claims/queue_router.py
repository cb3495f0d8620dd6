"""Work queues under /v1/queues: the caller's claims, each team's and the breached ones, the next
SLA due date first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from service.claims import queue
from service.claims.responses import Queue, QueueCount
from service.deps import DbSession, Offset, QueueFilters, RuntimeDep, require
from service.security import CLAIM_READERS, Principal

router = APIRouter(prefix="/v1/queues", tags=["queues"])
Readers = Annotated[Principal, Depends(require(*CLAIM_READERS))]
Limit = Annotated[int, Query(ge=1, le=500)]
Team = Annotated[str, Path(max_length=40)]


@router.get("", response_model=list[QueueCount])
def queues(who: Readers, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    """Every team's queue with its counts; the caller's own teams marked."""
    return JSONResponse(queue.counts(session, runtime, who))


@router.get("/mine", response_model=Queue)
def mine(
    who: Readers,
    session: DbSession,
    runtime: RuntimeDep,
    narrow: QueueFilters,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    """The claims the caller works, the next SLA due date first."""
    return JSONResponse(queue.mine(session, runtime, who, narrow, limit, offset))


@router.get("/breached", response_model=Queue)
def breached(
    _: Readers,
    session: DbSession,
    runtime: RuntimeDep,
    narrow: QueueFilters,
    team: Annotated[str | None, Query(max_length=40, description="one team's claims only")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    """The open claims past a deadline, the longest overdue first."""
    return JSONResponse(queue.breached(session, runtime, team, narrow, limit, offset))


@router.get("/teams/{team}", response_model=Queue)
def team(
    _: Readers,
    team: Team,
    session: DbSession,
    runtime: RuntimeDep,
    narrow: QueueFilters,
    waiting: Annotated[bool, Query(description="only the claims nobody holds yet")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    """A team's open claims, the next SLA due date first."""
    return JSONResponse(queue.team_queue(session, runtime, team, waiting, narrow, limit, offset))
