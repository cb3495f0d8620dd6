"""The vocabulary of every route: runtime, session, caller, request id and the claim at hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Literal

from fastapi import Depends, Path, Query, Request
from pydantic import BeforeValidator, StringConstraints
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import exposure
from service.claims import queue
from service.database import ReadOnlySession
from service.errors import Forbidden, NotFound, Unprocessable
from service.guard import PRINCIPAL
from service.lifecycle import LIVE
from service.models.claims import Claim
from service.observability import bind_claim
from service.runtime import Runtime
from service.security import Principal, identify

# The light dependencies are coroutines: FastAPI runs a plain function in the thread pool, and
# every hop there waits for the interpreter lock behind requests already working (a few per
# request under load). Only the route itself, which does the blocking work, runs on a thread.


# Days a report may start or end on (a date far outside cannot be placed in a time zone), and
# the longest period one report covers.
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
LONGEST = dt.timedelta(days=3 * 366)


def period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """Check a report's period: in order, and at most three years long."""
    if end < start:
        raise Unprocessable("'to' must not be before 'from'", field="to")
    if end - start > LONGEST:
        raise Unprocessable("a report covers at most three years: narrow 'from' and 'to'", field="to")
    return start, end


MAX_ID = 2**31 - 1  # the largest value an INTEGER column holds, on SQLite and PostgreSQL alike
RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="a stored row's id")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="how many items to skip")]
From = Annotated[
    dt.date, Query(alias="from", ge=EARLIEST, le=LATEST, description="the first day (YYYY-MM-DD)")
]
To = Annotated[dt.date, Query(alias="to", ge=EARLIEST, le=LATEST, description="the last day (YYYY-MM-DD)")]


async def get_runtime(request: Request) -> Runtime:
    """Return the runtime loaded at start-up."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(request: Request, runtime: RuntimeDep) -> AsyncIterator[Session]:
    """Yield one session per request; routes commit once, anything unfinished is rolled back.

    GET requests get a read-only one: they change nothing, so they need no write lock.

    Opening a session touches no connection; closing one after a commit releases nothing that
    blocks, and after a failure only rolls back: both are fit for the event loop.
    """
    session = runtime.readers() if request.method in ("GET", "HEAD") else runtime.sessions()
    try:
        yield session
        if isinstance(session, ReadOnlySession):
            session.finish()
    finally:
        session.rollback()
        session.close()


DbSession = Annotated[Session, Depends(get_session)]


async def get_request_id(request: Request) -> str:
    """Return the id of this request (from X-Request-ID or generated)."""
    return request.state.request_id


RequestId = Annotated[str, Depends(get_request_id)]


async def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """Identify the caller by API key (X-API-Key or Authorization: Bearer)."""
    known = getattr(request.state, PRINCIPAL, None)  # identified already by the guard
    if known is not None:
        return known
    return identify(runtime.keys, request.headers.get("x-api-key"), request.headers.get("authorization"))


def require(*roles: str) -> Callable[..., Principal]:
    """Return a dependency admitting only these roles (and admin)."""

    async def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.role != "admin" and principal.role not in roles:
            raise Forbidden(
                f"role {principal.role} may not do this; allowed: {', '.join(sorted({*roles, 'admin'}))}",
                role=principal.role,
                allowed_roles=sorted({*roles, "admin"}),
            )
        return principal

    return check


def get_claim(
    claim_number: Annotated[str, Path(max_length=30)], session: DbSession, request: Request
) -> Claim:
    """Load the claim named in the path, or 404; a request that writes locks its policy first."""
    if request.method not in ("GET", "HEAD"):
        exposure.lock_for_claim(session, claim_number)
    claim = session.scalar(select(Claim).where(Claim.claim_number == claim_number))
    if claim is None:
        raise NotFound(f"no claim {claim_number}", field="claim_number")
    bind_claim(claim.claim_number)
    return claim


CurrentClaim = Annotated[Claim, Depends(get_claim)]


def _blank_is_none(value: object) -> object:
    return None if value == "" else value


# A filter left on "any" in a form comes as an empty value: it means no filter.
Blank = BeforeValidator(_blank_is_none)


def queue_filters(
    product: Annotated[
        Annotated[str, StringConstraints(max_length=20)] | None,
        Blank,
        Query(description="the line: motor..."),
    ] = None,
    route: Annotated[Literal["simple", "complex", "major"] | None, Blank, Query()] = None,
    status: Annotated[Literal[LIVE] | None, Blank, Query(description="one open state")] = None,  # type: ignore[valid-type]
    risk_band: Annotated[Literal["low", "medium", "high"] | None, Blank, Query()] = None,
    breached: Annotated[
        bool | None, Blank, Query(description="only claims past (or within) a deadline")
    ] = None,
) -> queue.Filters:
    """The filters every queue takes."""
    return queue.Filters(product, route, status, risk_band, breached)


QueueFilters = Annotated[queue.Filters, Depends(queue_filters)]
