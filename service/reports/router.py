"""Report endpoints under /v1/reports."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from service.deps import DbSession, From, RuntimeDep, To, period, require
from service.errors import Unprocessable
from service.reports import fraud, quality, service
from service.reports.reserves import ReserveReport, reserves_report
from service.reports.responses import KpiReport, SlaReport
from service.security import MANAGERS, Principal

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/sla")
def sla(
    _: Annotated[Principal, Depends(require(*MANAGERS))], session: DbSession, runtime: RuntimeDep
) -> SlaReport:
    """Open claims against their due dates by tier and stage, breaches, average days per stage."""
    return service.sla_report(session, runtime)


@router.get("/reserves")
def reserves(_: Annotated[Principal, Depends(require(*MANAGERS))], session: DbSession) -> ReserveReport:
    """Outstanding case reserves by product line, tier and age."""
    return reserves_report(session)


@router.get("/kpis", response_model=KpiReport, response_model_by_alias=True)
def kpis(
    _: Annotated[Principal, Depends(require(*MANAGERS))],
    session: DbSession,
    runtime: RuntimeDep,
    start: Annotated[dt.date, Query(alias="from")],
    end: Annotated[dt.date, Query(alias="to")],
) -> dict[str, Any]:
    """Timeliness, outcome mix, cycle times, investigations, payments and rule firings."""
    if end < start:
        raise Unprocessable("'to' must not be before 'from'", field="to")
    return service.kpis(session, runtime, start, end)


@router.get("/service-quality")
def service_quality(
    _: Annotated[Principal, Depends(require(*MANAGERS))],
    session: DbSession,
    runtime: RuntimeDep,
    start: From,
    end: To,
    by: quality.By = "team",
) -> dict[str, Any]:
    """Satisfaction, complaint handling, claim timeliness, document lapses and rectification on
    time: by month, by quarter, and by team, person or line."""
    start, end = period(start, end)
    return quality.service_quality(session, runtime, start, end, by)


@router.get("/fraud")
def fraud_report(
    _: Annotated[Principal, Depends(require(*MANAGERS))],
    session: DbSession,
    runtime: RuntimeDep,
    start: From,
    end: To,
) -> dict[str, Any]:
    """For the regulator: referrals to investigation, confirmed frauds, clearances and the
    amounts confirmed frauds did not cost, by line and month."""
    start, end = period(start, end)
    return fraud.fraud_summary(session, runtime, start, end)
