"""Rulebook endpoints under /v1/rulebooks: upload, read, backtest, approve, activate, roll back."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import Field

from service.deps import DbSession, RuntimeDep, require
from service.rulebooks import service
from service.rulebooks.responses import BacktestReport, ShadowReport, VersionSummary, VersionView
from service.schemas import Strict
from service.security import MAY, RULEBOOK_READERS, Principal

router = APIRouter(prefix="/v1/rulebooks", tags=["rulebooks"])
Analyst = Annotated[Principal, Depends(require(*MAY["change_rulebook"]))]


class UploadIn(Strict):
    """A new rulebook version and the test table it must pass."""

    text: str = Field(min_length=1, max_length=500_000)
    tests: str = Field(min_length=1, max_length=500_000)


@router.post("", status_code=201, response_model=VersionView)
def upload(
    who: Analyst,
    body: UploadIn,
    session: DbSession,
    runtime: RuntimeDep,
) -> JSONResponse:
    """Upload a version: validated, its test table run, stored immutably as a draft."""
    version = service.upload(session, set(runtime.store.shipped), body.text, body.tests, who)
    out = service.view(session, version, with_diff=True)
    session.commit()
    return JSONResponse(out, status_code=201)


@router.get("", response_model=list[VersionSummary])
def listing(
    _: Annotated[Principal, Depends(require(*RULEBOOK_READERS))], session: DbSession
) -> list[dict[str, Any]]:
    """List every stored version with its status and the report dates it decides."""
    return service.listing(session)


@router.get("/{name}/versions/{version}", response_model=VersionView)
def read(
    _: Annotated[Principal, Depends(require(*RULEBOOK_READERS))], name: str, version: str, session: DbSession
) -> JSONResponse:
    """Return one version with its tests, backtest, history and diff against the active version."""
    return JSONResponse(service.view(session, service.get(session, name, version), with_diff=True))


def _act(session: DbSession, out: dict[str, Any]) -> JSONResponse:
    session.commit()
    return JSONResponse(out)


@router.post("/{name}/versions/{version}/backtest", response_model=BacktestReport)
def backtest(who: Analyst, name: str, version: str, session: DbSession) -> JSONResponse:
    """Backtest the version against the active one on every stored claim; the report is kept."""
    return _act(session, service.backtest(session, service.get(session, name, version), who))


@router.post("/{name}/versions/{version}/approve", response_model=VersionView)
def approve(who: Analyst, name: str, version: str, session: DbSession) -> JSONResponse:
    """Approve a draft (a second analyst, not the uploader)."""
    found = service.get(session, name, version)
    service.approve(session, found, who)
    return _act(session, service.view(session, found))


class ActivateIn(Strict):
    """When the version takes over: claims reported from this day on (default today)."""

    effective_from: dt.date | None = None


@router.post("/{name}/versions/{version}/activate", response_model=VersionView)
def activate(
    who: Analyst,
    name: str,
    version: str,
    session: DbSession,
    body: ActivateIn | None = None,
) -> JSONResponse:
    """Put an approved version in force from a day on, for every worker, without a restart."""
    found = service.get(session, name, version)
    replaced = service.activate(session, found, who, body.effective_from if body else None)
    return _act(session, {**service.view(session, found), "replaced": replaced.version})


@router.post("/{name}/rollback", response_model=VersionView)
def rollback(who: Analyst, name: str, session: DbSession) -> JSONResponse:
    """Revoke the latest activation; the version in force before it decides again."""
    now = service.rollback(session, name, who)
    return _act(session, service.view(session, now))


@router.post("/{name}/versions/{version}/shadow", response_model=VersionView)
def shadow(who: Analyst, name: str, version: str, session: DbSession) -> JSONResponse:
    """Evaluate this version beside the active one on live traffic, without affecting decisions."""
    found = service.get(session, name, version)
    service.start_shadow(session, found, who)
    return _act(session, service.view(session, found))


@router.delete("/{name}/shadow", response_model=VersionView)
def stop_shadow(who: Analyst, name: str, session: DbSession) -> JSONResponse:
    """Stop shadowing: live claims are no longer evaluated on the shadowed version (its report stays)."""
    stopped = service.stop_shadow(session, name, who)
    return _act(session, service.view(session, stopped))


@router.get("/{name}/versions/{version}/shadow-report", response_model=ShadowReport)
def shadow_report(
    _: Annotated[Principal, Depends(require(*RULEBOOK_READERS))], name: str, version: str, session: DbSession
) -> JSONResponse:
    """What the shadowed version would have decided differently, so far."""
    return JSONResponse(service.shadow_report(session, service.get(session, name, version)))
