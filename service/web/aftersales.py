"""The workbench's after-sales pages: complaints, rectification items and service quality."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from service.complaints import service as complaints
from service.complaints.schemas import CAUSES, ComplaintIn, ResolutionIn, ResponseIn
from service.deps import EARLIEST, LATEST, DbSession, RowId, RuntimeDep, period
from service.errors import Unprocessable
from service.rectification import service as rectification
from service.rectification.service import ClosureIn, RectificationIn
from service.reports import quality
from service.reports.render import sections
from service.surveys import service as surveys
from service.web.common import CsrfChecked, Person, act_then_back, allow, render
from service.web.context import nav

router = APIRouter(prefix="/app", include_in_schema=False)
Text = Annotated[str, Form(max_length=8000)]


@router.get("/complaints")
def complaints_page(
    request: Request,
    who: Person,
    session: DbSession,
    runtime: RuntimeDep,
    status: Literal["open", "responded", "resolved"] = "open",
) -> HTMLResponse:
    """The complaints in one state, with their clocks and the forms to answer and resolve them."""
    allow(who, "complaints")
    rows = complaints.listing(session, status, None, 100, 0)
    return render(
        request,
        "complaints.html",
        who,
        rows=rows,
        showing=status,
        causes=CAUSES,
        **nav(session, runtime, who),
    )


@router.get("/rectifications")
def rectifications_page(
    request: Request, who: Person, session: DbSession, runtime: RuntimeDep
) -> HTMLResponse:
    """Every rectification item, the earliest deadline first; overdue ones marked."""
    allow(who, "rectify")
    rows = rectification.listing(session, runtime, None, None)
    teams = list(runtime.assignment.policy.teams)
    return render(
        request, "rectifications.html", who, rows=rows, team_names=teams, **nav(session, runtime, who)
    )


@router.get("/calls")
def calls_page(request: Request, who: Person, session: DbSession, runtime: RuntimeDep) -> HTMLResponse:
    """The satisfaction calls the person's teams still have to make, with the form to record one."""
    allow(who, "follow_up")
    rows = surveys.calls_due(session, runtime, who)
    labels = {
        name: {"en": team.label.en, "zh-CN": team.label.zh_cn}
        for name, team in runtime.assignment.policy.teams.items()
    }
    return render(request, "calls.html", who, rows=rows, team_labels=labels, **nav(session, runtime, who))


@router.post("/calls/{survey_id}", dependencies=[CsrfChecked])
def record_call(
    request: Request,
    who: Person,
    survey_id: RowId,
    session: DbSession,
    runtime: RuntimeDep,
    reached: Annotated[bool, Form()],
    rating: Annotated[int | None, Form(ge=1, le=5)] = None,
    comment: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """Record one satisfaction call: the customer's rating, or that nobody answered."""

    def act() -> None:
        allow(who, "follow_up")
        data = surveys.CallIn(reached=reached, rating=rating, comment=comment or None)
        surveys.call(session, runtime, surveys.get(session, survey_id), data, who, request.state.request_id)

    return act_then_back(request, session, who, "/app/calls", act)


@router.get("/quality")
def quality_page(
    request: Request,
    who: Person,
    session: DbSession,
    runtime: RuntimeDep,
    by: quality.By = "team",
) -> HTMLResponse:
    """The service-quality report (this month by default), as tables."""
    allow(who, "reports")
    today = dt.datetime.now(runtime.settings.zone).date()
    first = _date(request.query_params.get("from"), "from") or today.replace(day=1)
    last = _date(request.query_params.get("to"), "to") or today
    first, last = period(first, last)
    report = quality.service_quality(session, runtime, first, last, by)
    tables = [(s.title, s.rows) for s in sections("service-quality", report)]
    return render(request, "quality.html", who, report=report, tables=tables, **nav(session, runtime, who))


def _date(text: str | None, name: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise Unprocessable(f"{name!r} is not a date (YYYY-MM-DD): {text!r}", field=name) from None
    if day is not None and not EARLIEST <= day <= LATEST:
        raise Unprocessable(f"{name!r} must be between {EARLIEST} and {LATEST}", field=name)
    return day


@router.post("/complaints/{complaint_id}/response", dependencies=[CsrfChecked])
def respond(
    request: Request, who: Person, complaint_id: RowId, session: DbSession, runtime: RuntimeDep, text: Text
) -> Response:
    """Give a complaint its first response."""

    def act() -> None:
        allow(who, "handle_complaint")
        complaints.respond(
            session, runtime, complaints.get(session, complaint_id), ResponseIn(text=text), who
        )

    return act_then_back(request, session, who, "/app/complaints", act)


@router.post("/complaints/{complaint_id}/resolution", dependencies=[CsrfChecked])
def resolve(
    request: Request,
    who: Person,
    complaint_id: RowId,
    session: DbSession,
    runtime: RuntimeDep,
    resolution: Text,
    cause: Annotated[str, Form(max_length=40)],
    upheld: Annotated[bool, Form()] = False,
) -> Response:
    """Resolve a complaint with its cause and whether it was upheld."""

    def act() -> None:
        allow(who, "handle_complaint")
        data = ResolutionIn(resolution=resolution, cause=cause, upheld=upheld)
        complaints.resolve(session, runtime, complaints.get(session, complaint_id), data, who)

    return act_then_back(request, session, who, "/app/complaints?status=resolved", act)


@router.post("/rectifications/{rectification_id}/closure", dependencies=[CsrfChecked])
def close(
    request: Request,
    who: Person,
    rectification_id: RowId,
    session: DbSession,
    runtime: RuntimeDep,
    evidence: Text,
) -> Response:
    """Close a rectification item with its evidence."""

    def act() -> None:
        allow(who, "rectify")
        item = rectification.get(session, rectification_id)
        rectification.close(session, runtime, item, ClosureIn(evidence=evidence), who)

    return act_then_back(request, session, who, "/app/rectifications", act)


Optional = Annotated[str | None, Form(max_length=200)]


@router.post("/complaints", dependencies=[CsrfChecked])
def record_complaint(
    request: Request,
    who: Person,
    session: DbSession,
    runtime: RuntimeDep,
    customer: Annotated[str, Form(max_length=200)],
    channel: Annotated[str, Form(max_length=20)],
    category: Annotated[str, Form(max_length=40)],
    severity: Annotated[str, Form(max_length=10)],
    text: Text,
    claim_number: Optional = None,
) -> Response:
    """Record a complaint taken on the phone, at the counter or by letter."""

    def act() -> None:
        allow(who, "complain")
        data = ComplaintIn(
            customer=customer,
            channel=channel,
            category=category,
            severity=severity,
            text=text,
            claim_number=claim_number or None,
        )
        complaints.receive(session, runtime, data, who)

    return act_then_back(request, session, who, "/app/complaints", act)


@router.post("/rectifications", dependencies=[CsrfChecked])
def raise_item(
    request: Request,
    who: Person,
    session: DbSession,
    runtime: RuntimeDep,
    requirement: Text,
    owner_team: Optional = None,
    owner: Optional = None,
    claim_number: Optional = None,
    deadline: Optional = None,
) -> Response:
    """A supervisor's rectification notice."""

    def act() -> None:
        allow(who, "supervise")
        data = RectificationIn(
            requirement=requirement,
            owner_team=owner_team or None,
            owner=owner or None,
            claim_number=claim_number or None,
            deadline=deadline or None,
        )
        rectification.raise_notice(session, runtime, data, who)

    return act_then_back(request, session, who, "/app/rectifications", act)
