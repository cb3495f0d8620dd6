"""The workbench's pages (GET): queues, a claim, investigations, rulebooks and models."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlalchemy import select

from risk_models import export
from service.claims import queue, views
from service.deps import CurrentClaim, DbSession, Offset, QueueFilters, RuntimeDep
from service.errors import DomainError, NotFound
from service.investigations import service as investigations
from service.models.claims import Claim
from service.rulebooks import service as rulebooks
from service.runtime import Runtime
from service.security import Principal
from service.web.common import Person, allow, local, render, web_session
from service.web.context import claim_context, nav
from service.web.i18n import pick

router = APIRouter(prefix="/app", include_in_schema=False)
PAGE = 25


@router.get("")
def home() -> RedirectResponse:
    """The workbench opens on the person's own work."""
    return RedirectResponse("/app/queues/mine", status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, next: str = "/app/queues/mine", expired: bool = False) -> HTMLResponse:
    """The sign-in form (saying so when a session ended)."""
    return render(request, "sign_in.html", None, next=local(next), error_key="expired" if expired else None)


def _queue_page(
    request: Request, session: Any, runtime: Runtime, who: Principal, title: str, shown: dict, narrow: Any
) -> HTMLResponse:
    return render(
        request,
        "queue.html",
        who,
        title=title,
        queue=shown,
        filters=narrow,
        page_size=PAGE,
        **nav(session, runtime, who),
    )


@router.get("/queues/mine")
def my_work(
    request: Request,
    who: Person,
    session: DbSession,
    runtime: RuntimeDep,
    narrow: QueueFilters,
    offset: Offset = 0,
) -> HTMLResponse:
    """The claims the person holds, the next SLA due date first."""
    allow(who, "claims")
    shown = queue.mine(session, runtime, who, narrow, PAGE, offset)
    return _queue_page(request, session, runtime, who, "my_work", shown, narrow)


@router.get("/queues/teams/{team}")
def team_queue(
    request: Request,
    who: Person,
    team: str,
    session: DbSession,
    runtime: RuntimeDep,
    narrow: QueueFilters,
    waiting: bool = False,
    offset: Offset = 0,
) -> HTMLResponse:
    """A team's open claims (or only those nobody holds), the next SLA due date first."""
    allow(who, "claims")
    try:
        shown = queue.team_queue(session, runtime, team, waiting, narrow, PAGE, offset)
    except DomainError as exc:
        return render(request, "error.html", who, exc.status, message=exc.detail)
    label = runtime.assignment.policy.teams[team].label
    title = pick({"en": label.en, "zh-CN": label.zh_cn}, web_session(request).lang)
    return _queue_page(request, session, runtime, who, title, shown, narrow)


@router.get("/queues/breached")
def breached(
    request: Request,
    who: Person,
    session: DbSession,
    runtime: RuntimeDep,
    narrow: QueueFilters,
    offset: Offset = 0,
) -> HTMLResponse:
    """Every open claim past a deadline, the longest overdue first."""
    allow(who, "claims")
    shown = queue.breached(session, runtime, None, narrow, PAGE, offset)
    return _queue_page(request, session, runtime, who, "breached", shown, narrow)


@router.get("/find")
def find(who: Person, number: Annotated[str, Query(max_length=30)] = "") -> RedirectResponse:
    """Open a claim by its number (nothing typed: back to the person's work)."""
    number = number.strip().upper()
    if not number:
        return RedirectResponse("/app/queues/mine", status_code=303)
    return RedirectResponse(f"/app/claims/{quote(number, safe='')}", status_code=303)


@router.get("/claims/{claim_number}")
def claim_page(
    request: Request, who: Person, claim: CurrentClaim, session: DbSession, runtime: RuntimeDep
) -> HTMLResponse:
    """One claim: facts, documents, reasons, risk, clocks, records and the person's actions."""
    allow(who, "claims")
    return render(request, "claim.html", who, **claim_context(session, runtime, claim, who))


@router.get("/investigations")
def investigations_page(
    request: Request,
    who: Person,
    session: DbSession,
    status: Literal["open", "confirmed_fraud", "cleared"] = "open",
    offset: Offset = 0,
) -> HTMLResponse:
    """The investigations, open ones first: score, factors and the amount held."""
    allow(who, "investigations")
    rows = investigations.listing(session, status, PAGE, offset)
    for row in rows:
        claim = session.scalar(select(Claim).where(Claim.claim_number == row["claim_number"]))
        record = views.latest_adjudication(session, claim)
        risk = (record.outcome.get("risk") if record else None) or {}
        row["factors"] = risk.get("factors") or []
        row["held"] = str(claim.reserve) if claim.on_hold else None
        row["claimed"] = str(claim.claimed_amount)
    return render(
        request,
        "investigations.html",
        who,
        rows=rows,
        showing=status,
        offset=offset,
        page=PAGE,
        more=len(rows) == PAGE,
    )


@router.get("/rulebooks")
def rulebooks_page(request: Request, who: Person, session: DbSession) -> HTMLResponse:
    """Every rulebook version with its status and the report dates it decides."""
    allow(who, "rulebooks")
    return render(request, "rulebooks.html", who, versions=rulebooks.listing(session))


@router.get("/rulebooks/{name}/{version}")
def rulebook_page(request: Request, name: str, version: str, who: Person, session: DbSession) -> HTMLResponse:
    """One version: tests, backtest report, history and the diff against the version in force."""
    allow(who, "rulebooks")
    try:
        shown = rulebooks.view(session, rulebooks.get(session, name, version), with_diff=True)
    except DomainError as exc:
        return render(request, "error.html", who, exc.status, message=exc.detail)
    return render(request, "rulebook.html", who, version=shown)


_models: dict[str, tuple[float, list[dict[str, Any]], str | None]] = {}
_reading = threading.Lock()  # one child process reads the registry at a time
MODELS_FRESH, FAILURE_FRESH = 60.0, 10.0  # seconds a listing (or the reason there is none) is reused


def model_versions(runtime: Runtime, refresh: bool = True) -> tuple[list[dict[str, Any]], str | None]:
    """The registry's versions (aliases, metrics, plots), read by the export child, or why not.

    A listing is reused for a minute, and a failure for ten seconds; while one page reads the
    registry, the others wait for its answer instead of starting children of their own.
    """
    where = str(runtime.settings.data_dir)

    def fresh() -> tuple[list[dict[str, Any]], str | None] | None:
        cached = _models.get(where)
        if cached and (
            not refresh or time.monotonic() - cached[0] < (FAILURE_FRESH if cached[2] else MODELS_FRESH)
        ):
            return cached[1], cached[2]
        return None

    known = fresh()
    if known is not None:
        return known
    with _reading:
        known = fresh()
        if known is not None:
            return known
        try:
            rows, problem = export.listing(runtime.settings.data_dir), None
        except export.ExportError as exc:
            rows, problem = [], str(exc)
        _models[where] = (time.monotonic(), rows, problem)
        return rows, problem


@router.get("/models")
def models_page(request: Request, who: Person, runtime: RuntimeDep) -> HTMLResponse:
    """The fraud model's versions: aliases, headline metrics and the evaluation plots."""
    allow(who, "rulebooks")
    rows, problem = model_versions(runtime)
    serving = runtime.scorer.version if runtime.scorer else None
    return render(request, "models.html", who, versions=rows, problem=problem, serving=serving)


@router.get("/models/{version}/plots/{plot}")
def model_plot(version: str, plot: str, who: Person, runtime: RuntimeDep) -> FileResponse:
    """One evaluation plot, as the registry keeps it (only files the listing named are served)."""
    allow(who, "rulebooks")
    rows, _ = model_versions(runtime, refresh=False)  # the plots the page just listed
    found = next((r["plots"].get(plot) for r in rows if r["version"] == version), None)
    if found is None or not Path(found).is_file():
        raise NotFound(f"no plot {plot!r} for version {version}", field="plot")
    return FileResponse(found, media_type="image/png")
