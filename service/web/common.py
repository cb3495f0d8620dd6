"""What every workbench page shares: the templates, the signed-in person, rendering and refusals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.deps import RuntimeDep
from service.errors import DomainError, Forbidden
from service.runtime import Runtime
from service.security import Principal, may
from service.web import auth
from service.web.i18n import pick, translator

HERE = Path(__file__).parent
templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["pick"] = pick
# Every page: no framing, no cache of a signed-in page, nothing loaded from elsewhere.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self'; style-src 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}
REFUSALS = (DomainError, ValidationError, StaleDataError, IntegrityError)  # what a form may meet


def local(target: str | None, default: str = "/app/queues/mine") -> str:
    """Only a path inside the workbench is followed (no open redirect)."""
    if target and target.startswith("/app") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def sessions(request: Request) -> auth.Sessions:
    """The app's cookie reader and writer."""
    return request.app.state.web_sessions


def web_session(request: Request) -> auth.WebSession:
    """This request's workbench session (anonymous if none)."""
    known = getattr(request.state, "web_session", None)
    if known is None:
        known = request.state.web_session = sessions(request).read(request)
    return known


def person_of(request: Request, runtime: Runtime) -> Principal | None:
    """Who the request's session names, if it is still signed in."""
    with runtime.readers() as db:
        return auth.person(db, web_session(request), runtime.keys)


def signed_in(request: Request, runtime: RuntimeDep) -> Principal:
    """The signed-in person, or a redirect to the sign-in page."""
    who = person_of(request, runtime)
    if who is None:
        raise auth.SignInNeeded
    return who


Person = Annotated[Principal, Depends(signed_in)]


def allow(who: Principal, action: str) -> None:
    """Refuse a page or form the person's role may not use (the API's own table, security.MAY)."""
    if not may(who.role, action):
        raise Forbidden(f"role {who.role} may not do this", role=who.role)


def page_link(request: Request, **changes: Any) -> str:
    """A relative link to this page with some query parameters changed (blank ones dropped)."""
    query = {k: v for k, v in request.query_params.items() if v}
    query.update({k: v for k, v in changes.items() if v is not None})
    return "?" + urlencode(query)


def render(
    request: Request, name: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page with the person, language, labels and CSRF token every template uses.

    `here` is the page a language switch comes back to: the page itself, or for a form shown
    again after a refusal, the page the form belongs to.
    """
    session = web_session(request)
    here = context.pop("here", None) or (request.url.path if request.method == "GET" else "/app")
    body = templates.get_template(name).render(
        request=request,
        who=who,
        lang=session.lang,
        t=translator(session.lang),
        csrf=session.csrf,
        may=(lambda action: who is not None and may(who.role, action)),
        today=dt.date.today().isoformat(),
        here=here,
        page_link=lambda **changes: page_link(request, **changes),
        local=lambda iso: _local_time(request, iso),
        status_code=status,
        **context,
    )
    response = HTMLResponse(body, status_code=status, headers=HEADERS)
    sessions(request).write(response, session)
    return response


def _local_time(request: Request, iso: str | None) -> str:
    """An ISO moment as the office reads it: its date and time in the service's zone."""
    if not iso:
        return ""
    moment = dt.datetime.fromisoformat(iso)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(request.app.state.runtime.settings.zone).strftime("%Y-%m-%d %H:%M")


def refusal(exc: Exception) -> tuple[int, str]:
    """The status and text a refused form shows: a problem's detail, or each invalid field."""
    if isinstance(exc, DomainError):
        fields = [f"{e.get('field')}: {e.get('message')}" for e in exc.extra.get("errors", [])]
        return exc.status, "; ".join([exc.detail, *fields])
    if isinstance(exc, StaleDataError | IntegrityError):
        return 409, "another request changed this claim at the same time; look again and retry"
    if isinstance(exc, ValidationError | RequestValidationError):
        return 422, "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p not in ('body', 'query')) or 'form'}: {e['msg']}"
            for e in exc.errors()
        )
    if isinstance(exc, StarletteHTTPException):
        return exc.status_code, str(exc.detail)
    raise exc


def act_then_back(
    request: Request, session: Any, who: Principal, page: str, act: Callable[[], None]
) -> Response:
    """Run a form's action: commit and go back to the page saying so, or show the refusal on an
    error page and change nothing."""
    try:
        act()
        session.commit()
    except REFUSALS as exc:
        session.rollback()
        status, message = refusal(exc)
        return render(request, "error.html", who, status, message=message, back=page, here=page)
    return done(page)


def back_to(path: str) -> RedirectResponse:
    """After a form that worked: see the page again (303, so a reload does not post twice)."""
    return RedirectResponse(path, status_code=303)


def done(path: str) -> RedirectResponse:
    """Back to a page, saying the form worked."""
    return back_to(path + ("&" if "?" in path else "?") + "done=1")


def install(app: FastAPI, key: bytes, secure: bool) -> None:
    """Give the app its cookie handling and the answers to signed-out and CSRF-less requests."""
    app.state.web_sessions = auth.Sessions(key, secure)

    async def sign_in_first(request: Request, _: Exception) -> RedirectResponse:
        # After signing in, come back to this page; a form's page, if a form was posted.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = local(urlsplit(request.headers.get("referer", "")).path, "/app")
        return RedirectResponse(f"/app/sign-in?next={quote(target)}&expired=1", status_code=303)

    async def csrf_refused(request: Request, _: Exception) -> HTMLResponse:
        return render(request, "error.html", None, 403, message_key="csrf_refused")

    app.add_exception_handler(auth.SignInNeeded, sign_in_first)
    app.add_exception_handler(auth.CsrfRefused, csrf_refused)
    # A refusal on a page is a page (the API's routes keep their problem+json).
    for kind in (DomainError, RequestValidationError, StarletteHTTPException):
        api_answer = app.exception_handlers[kind]

        async def answer(request: Request, exc: Exception, api_answer: Any = api_answer) -> Response:
            path = request.url.path
            if not path.startswith(("/app", "/survey")) or path.startswith("/app/static"):
                return await api_answer(request, exc)
            status, message = refusal(exc)
            who = person_of(request, request.app.state.runtime)
            return render(request, "error.html", who, status, message=message)

        app.add_exception_handler(kind, answer)


async def checked_form(request: Request, csrf: Annotated[str | None, Form()] = None) -> None:
    """Refuse a form posted without this session's CSRF token (before anything else runs)."""
    auth.check_csrf(web_session(request), csrf)


CsrfChecked = Depends(checked_form)
