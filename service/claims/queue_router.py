"""Work queues under /v1/queues: the caller's claims, each team's and the breached ones, the next
SLA due date first."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse

from service.claims import queue
from service.claims.responses import Queue, QueueCount
from service.deps import DbSession, Offset, RuntimeDep, require
from service.lifecycle import LIVE
from service.security import CLAIM_READERS, Principal

router = APIRouter(prefix="/v1/queues", tags=["queues"])
Readers = Annotated[Principal, Depends(require(*CLAIM_READERS))]
Limit = Annotated[int, Query(ge=1, le=500)]
Team = Annotated[str, Path(max_length=40)]


def filters(
    product: Annotated[str | None, Query(max_length=20, description="the line: motor, health...")] = None,
    route: Literal["simple", "complex", "major"] | None = None,
    status: Annotated[Literal[LIVE] | None, Query(description="one open state")] = None,  # type: ignore[valid-type]
    risk_band: Literal["low", "medium", "high"] | None = None,
    breached: Annotated[bool | None, Query(description="only claims past (or within) a deadline")] = None,
) -> queue.Filters:
    """The filters every queue takes."""
    return queue.Filters(product, route, status, risk_band, breached)


Filters = Annotated[queue.Filters, Depends(filters)]


@router.get("", response_model=list[QueueCount])
def queues(who: Readers, session: DbSession, runtime: RuntimeDep) -> JSONResponse:
    """Every team's queue with its counts; the caller's own teams marked."""
    return JSONResponse(queue.counts(session, runtime, who))


@router.get("/mine", response_model=Queue)
def mine(
    who: Readers,
    session: DbSession,
    runtime: RuntimeDep,
    narrow: Filters,
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
    narrow: Filters,
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
    narrow: Filters,
    waiting: Annotated[bool, Query(description="only the claims nobody holds yet")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> JSONResponse:
    """A team's open claims, the next SLA due date first."""
    return JSONResponse(queue.team_queue(session, runtime, team, waiting, narrow, limit, offset))
