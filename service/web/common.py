"""What every workbench page shares: the templates, the signed-in person, rendering and refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from service.deps import RuntimeDep
from service.errors import DomainError, Forbidden
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


def sessions(request: Request) -> auth.Sessions:
    """The app's cookie reader and writer."""
    return request.app.state.web_sessions


def web_session(request: Request) -> auth.WebSession:
    """This request's workbench session (anonymous if none)."""
    known = getattr(request.state, "web_session", None)
    if known is None:
        known = request.state.web_session = sessions(request).read(request)
    return known


async def signed_in(request: Request, runtime: RuntimeDep) -> Principal:
    """The signed-in person, or a redirect to the sign-in page."""
    who = auth.person(web_session(request), runtime.keys)
    if who is None:
        raise auth.SignInNeeded
    return who


Person = Annotated[Principal, Depends(signed_in)]


def allow(who: Principal, action: str) -> None:
    """Refuse a page or form the person's role may not use (the API's own table, security.MAY)."""
    if not may(who.role, action):
        raise Forbidden(f"role {who.role} may not do this", role=who.role)


def render(
    request: Request, name: str, who: Principal | None, status: int = 200, **context: Any
) -> HTMLResponse:
    """Render a page with the person, language, labels and CSRF token every template uses."""
    session = web_session(request)
    body = templates.get_template(name).render(
        request=request,
        who=who,
        lang=session.lang,
        t=translator(session.lang),
        csrf=session.csrf,
        may=(lambda action: who is not None and may(who.role, action)),
        today=dt.date.today().isoformat(),
        **context,
    )
    response = HTMLResponse(body, status_code=status)
    sessions(request).write(response, session)
    return response


REFUSALS = (DomainError, ValidationError, StaleDataError, IntegrityError)  # what a form may meet


def refusal(exc: Exception) -> tuple[int, str]:
    """The status and text a refused form shows: a problem's detail, or each invalid field."""
    if isinstance(exc, DomainError):
        fields = [f"{e.get('field')}: {e.get('message')}" for e in exc.extra.get("errors", [])]
        return exc.status, "; ".join([exc.detail, *fields])
    if isinstance(exc, StaleDataError | IntegrityError):
        return 409, "another request changed this claim at the same time; look again and retry"
    if isinstance(exc, ValidationError | RequestValidationError):
        return 422, "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()
        )
    raise exc


def back_to(path: str) -> RedirectResponse:
    """After a form that worked: see the page again (303, so a reload does not post twice)."""
    return RedirectResponse(path, status_code=303)


def install(app: FastAPI, key: bytes, secure: bool) -> None:
    """Give the app its cookie handling and the answers to signed-out and CSRF-less requests."""
    app.state.web_sessions = auth.Sessions(key, secure)

    async def sign_in_first(request: Request, _: Exception) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/app/sign-in?next={quote(target)}", status_code=303)

    async def csrf_refused(request: Request, _: Exception) -> HTMLResponse:
        return render(request, "error.html", None, 403, message_key="csrf_refused")

    app.add_exception_handler(auth.SignInNeeded, sign_in_first)
    app.add_exception_handler(auth.CsrfRefused, csrf_refused)
    # A refusal on a page is a page (the API's routes keep their problem+json).
    for kind in (DomainError, RequestValidationError):
        api_answer = app.exception_handlers[kind]

        async def answer(request: Request, exc: Exception, api_answer: Any = api_answer) -> Response:
            if not request.url.path.startswith("/app"):
                return await api_answer(request, exc)
            status, message = refusal(exc)
            who = auth.person(web_session(request), request.app.state.runtime.keys)
            return render(request, "error.html", who, status, message=message)

        app.add_exception_handler(kind, answer)


async def checked_form(request: Request, csrf: Annotated[str | None, Form()] = None) -> None:
    """Refuse a form posted without this session's CSRF token (before anything else runs)."""
    auth.check_csrf(web_session(request), csrf)


CsrfChecked = Depends(checked_form)
