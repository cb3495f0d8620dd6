"""The workbench's forms (POST): each one checks the CSRF token, calls the same domain service
as the API route, commits, and sends the browser back to the page; a refusal shows the
problem's text on the page it came from, and changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy import select

from service.claims import payee, queue, review, service
from service.claims.schemas import AssignmentIn, DecisionIn, DocumentCheck, ReviewIn
from service.deps import CurrentClaim, DbSession, RequestId, RowId, RuntimeDep
from service.errors import DomainError, NotFound, Unprocessable
from service.investigations import service as investigations
from service.investigations.service import OutcomeIn
from service.models.claims import Claim
from service.rulebooks import service as rulebooks
from service.runtime import Runtime
from service.security import Principal, identify
from service.web import auth
from service.web.common import (
    REFUSALS,
    CsrfChecked,
    Person,
    act_then_back,
    allow,
    back_to,
    done,
    local,
    refusal,
    render,
    sessions,
    web_session,
)
from service.web.context import claim_context

router = APIRouter(prefix="/app", include_in_schema=False, dependencies=[CsrfChecked])
Text = Annotated[str, Form(max_length=4000)]
Optional = Annotated[str | None, Form(max_length=4000)]


@router.post("/sign-in")
def sign_in(
    request: Request,
    runtime: RuntimeDep,
    api_key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=500)] = "/app/queues/mine",
) -> Response:
    """Sign in with the person's API key: a new session (and CSRF token) on success."""
    try:
        who = identify(runtime.keys, api_key.strip(), None)
    except DomainError:
        return render(request, "sign_in.html", None, 401, next=local(next), error_key="unknown_key")
    with runtime.sessions.begin() as db:
        session = auth.sign_in(db, web_session(request), api_key.strip(), who)
    response = back_to(local(next))
    sessions(request).write(response, session)
    return response


@router.post("/sign-out")
def sign_out(request: Request, runtime: RuntimeDep) -> Response:
    """End the session on every worker; the browser keeps only a signed-out cookie."""
    with runtime.sessions.begin() as db:
        session = auth.sign_out(db, web_session(request))
    response = back_to("/app/sign-in")
    sessions(request).write(response, session)
    return response


@router.post("/language")
def language(
    request: Request,
    lang: Annotated[str, Form(max_length=10)],
    next: Annotated[str, Form(max_length=500)] = "/app",
) -> Response:
    """Switch the pages between Chinese and English."""
    response = back_to(local(next))
    sessions(request).write(response, web_session(request).speaking(lang))
    return response


def _on_claim(
    request: Request,
    session: Any,
    runtime: Runtime,
    claim: Claim,
    who: Principal,
    act: Callable[[], Any],
) -> Response:
    """Run one action on a claim: commit and go back to it, or show the refusal and change nothing."""
    claim_id, number = claim.id, claim.claim_number
    try:
        act()
        session.commit()
    except REFUSALS as exc:
        session.rollback()
        session.close()  # the page is drawn from a reader: no write lock is held while it renders
        status, message = refusal(exc)
        page = f"/app/claims/{number}"
        with runtime.readers() as reader:
            fresh = reader.scalar(select(Claim).where(Claim.id == claim_id))
            context = claim_context(reader, runtime, fresh, who)
            return render(request, "claim.html", who, status, error=message, here=page, **context)
    return done(f"/app/claims/{number}")


@router.post("/claims/{claim_number}/assignment")
def assignment(
    request: Request,
    who: Person,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
    action: Annotated[str, Form(max_length=20)],
    team: Optional = None,
    to: Optional = None,
    reason: Optional = None,
) -> Response:
    """Take the claim, give it back, or (a senior reviewer) reassign it."""

    def act() -> None:
        allow(who, "assignment")
        data = AssignmentIn(action=action, team=team or None, to=to or None, reason=reason or None)
        queue.change(session, runtime, claim, data, who, request_id)

    return _on_claim(request, session, runtime, claim, who, act)


@router.post("/claims/{claim_number}/documents/{doc_id}")
def check_document(
    request: Request,
    who: Person,
    doc_id: RowId,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
    status: Annotated[str, Form(max_length=20)],
    reason: Optional = None,
) -> Response:
    """Mark a received document verified, or rejected with a reason."""

    def act() -> None:
        allow(who, "check_document")
        data = DocumentCheck(status=status, reason=reason or None)
        service.check_document(session, runtime, claim, doc_id, data, who, request_id)

    return _on_claim(request, session, runtime, claim, who, act)


@router.post("/claims/{claim_number}/review")
def add_review(
    request: Request,
    who: Person,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
    stage: Annotated[str, Form(max_length=20)],
    recommendation: Annotated[str, Form(max_length=20)],
    amount: Optional = None,
    notes: Text = "",
) -> Response:
    """Record a preliminary or senior review."""

    def act() -> None:
        allow(who, "review")
        data = ReviewIn(stage=stage, recommendation=recommendation, amount=amount or None, notes=notes)
        review.add_review(session, runtime, claim, data, who, request_id)

    return _on_claim(request, session, runtime, claim, who, act)


@router.post("/claims/{claim_number}/decision")
def decide(
    request: Request,
    who: Person,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
    outcome: Annotated[str, Form(max_length=20)],
    amount: Optional = None,
    override_reason_code: Optional = None,
    reason_codes: Annotated[list[str] | None, Form()] = None,
    explanation_zh: Optional = None,
    explanation_en: Optional = None,
) -> Response:
    """Approve an amount, or deny with reason codes and the customer's explanation."""

    def act() -> None:
        allow(who, "decide")
        body: dict[str, Any] = {"outcome": outcome}
        if outcome == "approve":
            body |= {"amount": amount or None, "override_reason_code": override_reason_code or None}
        else:
            body["reason_codes"] = [c for c in reason_codes or [] if c]
            if (explanation_zh or "").strip() or (explanation_en or "").strip():
                body["explanation"] = {"zh-CN": explanation_zh or "", "en": explanation_en or ""}
        review.decide(session, runtime, claim, DecisionIn.model_validate(body), who, request_id)

    return _on_claim(request, session, runtime, claim, who, act)


@router.post("/claims/{claim_number}/payee/verify")
def verify_payee(
    request: Request,
    who: Person,
    claim: CurrentClaim,
    session: DbSession,
    runtime: RuntimeDep,
    request_id: RequestId,
) -> Response:
    """Confirm a changed payee with the customer."""

    def act() -> None:
        allow(who, "verify_payee")
        payee.verify(session, claim, who, request_id)

    return _on_claim(request, session, runtime, claim, who, act)


@router.post("/investigations/{investigation_id}/outcome")
def conclude(
    request: Request,
    who: Person,
    investigation_id: RowId,
    session: DbSession,
    request_id: RequestId,
    outcome: Annotated[str, Form(max_length=20)],
    notes: Text = "",
    back: Annotated[str, Form(max_length=200)] = "/app/investigations",
) -> Response:
    """Record confirmed fraud or cleared, with notes; cleared lifts the hold on the claim."""
    try:
        allow(who, "conclude")
        found = investigations.get(session, investigation_id)
        investigations.conclude(session, found, OutcomeIn(outcome=outcome, notes=notes), who, request_id)
        session.commit()
    except REFUSALS as exc:
        session.rollback()
        status, message = refusal(exc)
        return render(request, "error.html", who, status, message=message, back=local(back), here=local(back))
    return done(local(back, "/app/investigations"))


@router.post("/rulebooks/{name}/{version}/{step}")
def rulebook_step(
    request: Request,
    who: Person,
    name: str,
    version: str,
    step: str,
    session: DbSession,
    effective_from: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """Backtest, approve (a second analyst) or activate a version."""
    page = f"/app/rulebooks/{name}/{version}"

    def act() -> None:
        allow(who, "change_rulebook")
        found = rulebooks.get(session, name, version)
        if step == "backtest":
            rulebooks.backtest(session, found, who)
        elif step == "approve":
            rulebooks.approve(session, found, who)
        elif step == "activate":
            try:
                day = dt.date.fromisoformat(effective_from) if effective_from else None
            except ValueError:
                raise Unprocessable(f"{effective_from!r} is not a date", field="effective_from") from None
            rulebooks.activate(session, found, who, day)
        else:
            raise Unprocessable(f"no step {step!r}: backtest, approve or activate", field="step")

    return act_then_back(request, session, who, page, act)


@router.post("/rulebooks/{name}/rollback")
def rulebook_rollback(
    request: Request,
    name: str,
    who: Person,
    session: DbSession,
    confirm: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """Revoke the latest activation of a rulebook (the form asks to confirm it)."""

    def act() -> None:
        allow(who, "change_rulebook")
        if name not in rulebooks.names(session):
            raise NotFound(f"no rulebook {name!r}", field="name")
        if confirm != "yes":
            raise Unprocessable("tick the box to confirm the rollback", field="confirm")
        rulebooks.rollback(session, name, who)

    return act_then_back(request, session, who, "/app/rulebooks", act)
