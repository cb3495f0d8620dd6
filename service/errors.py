"""Domain errors and their one rendering: RFC 9457 application/problem+json."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM = "application/problem+json"


class DomainError(Exception):
    """An error a client can act on: status, stable code, title, and what is at fault."""

    status = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    """The thing named does not exist."""

    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    """The request does not fit the current state."""

    status, code, title = 409, "conflict", "Conflict with the current state"


class InvalidTransition(Conflict):
    """A lifecycle action not allowed in the claim's current state."""

    code, title = "invalid_transition", "Action not allowed in the current state"


class Unprocessable(DomainError):
    """The request is well-formed but its content cannot be accepted."""

    status, code, title = 422, "invalid_input", "The request content cannot be accepted"


class Forbidden(DomainError):
    """The caller may not do this."""

    status, code, title = 403, "forbidden", "Forbidden"


class Unauthorized(DomainError):
    """No valid credentials."""

    status, code, title = 401, "unauthorized", "Missing or invalid API key"


class PayloadTooLarge(DomainError):
    """The request body is over the limit."""

    status, code, title = 413, "payload_too_large", "Request body too large"


class InternalError(DomainError):
    """The service failed; the request id finds it in the logs."""

    status, code, title = 500, "internal_error", "Internal error"


def render(exc: DomainError, instance: str) -> JSONResponse:
    """Render a domain error as problem+json."""
    return problem(exc.status, exc.code, exc.title, exc.detail, instance, **exc.extra)


def problem(
    status: int, code: str, title: str, detail: str, instance: str, headers: dict | None = None, **extra: Any
) -> JSONResponse:
    """Build a problem+json response."""
    body = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        **extra,
    }
    headers = {**(headers or {}), **({"WWW-Authenticate": "ApiKey"} if status == 401 else {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers or None)


# A check across fields names the field at fault first: "end_date: must not be before start_date".
ACROSS = re.compile(r"^Value error, (?P<field>[a-z_]+): (?P<message>.*)$", re.DOTALL)


def _error(error: dict[str, Any]) -> dict[str, str]:
    parts = [str(p) for p in error["loc"] if p not in ("body", "query", "path", "header")]
    field, message = ".".join(parts) or str(error["loc"][-1]), error["msg"]
    across = ACROSS.match(message)
    if across:
        field = ".".join([*parts, across["field"]])
        message = across["message"]
    return {"field": field, "message": message}


def _allowed(request: Request, given: str) -> str:
    # Read from the published paths (built once): every operation on a path that matches.
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/]+\}", "[^/]+", template), request.url.path):
            methods |= {m.upper() for m in operations}
    return ", ".join(sorted(methods)) or given


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return render(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [_error(e) for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem(
            422,
            "validation_error",
            "The request is not valid",
            detail,
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # Not JSON the parser can read (invalid UTF-8, nested past its depth): a bad request body.
            detail = "the body is not JSON this service can read (invalid UTF-8, or nested too deep)"
            errors = [{"field": "body", "message": detail}]
            return problem(
                422, "validation_error", "The request is not valid", detail, request.url.path, errors=errors
            )
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        code = codes.get(exc.status_code, "http_error")
        if exc.status_code == 413:
            return render(PayloadTooLarge(str(exc.detail)), request.url.path)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            # Starlette names the methods of the first route on the path; a path has one route per method.
            headers = {**(headers or {}), "Allow": _allowed(request, (headers or {}).get("Allow", ""))}
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), request.url.path, headers)
