"""What every request passes before the app sees it, and what catches whatever the app lets fall.

- The request target: a control character in the path or a query parameter is a 422 naming it.
- The caller: a request under /v1 without a known API key is a 401 before any body is read;
  the caller found is kept in the request's state, so the routes do not look the key up again.
- The body: a Content-Length over the limit is a 413 at once; a body is also counted as it
  arrives, so a chunked one (no Content-Length) gets its 413 before the rest is buffered.
- Failures: any exception the app does not turn into a problem becomes a problem+json 500 with
  the request id, logged with its traceback; the connection stays usable.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, unquote

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service import errors
from service.errors import DomainError
from service.schemas import CONTROL
from service.security import identify

log = logging.getLogger("service.guard")
PRINCIPAL = "principal"  # where the request's state keeps the caller the guard identified


class BodyTooLarge(HTTPException):
    """The body passed the limit while it was being read (an HTTP error, so the app's body
    parsing passes it on as it is, and the problem handler answers 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"bodies are limited to {limit} bytes")


def _target_problem(scope: Scope) -> DomainError | None:
    path = unquote(scope["path"])
    if CONTROL.search(path):
        return errors.Unprocessable("the path must not contain control characters", field="path")
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if CONTROL.search(name) or CONTROL.search(value):
            return errors.Unprocessable(
                f"query parameter {name!r} must not contain control characters", field=name
            )
    return None


def _caller_problem(scope: Scope, headers: dict[bytes, bytes]) -> DomainError | None:
    if not scope["path"].startswith("/v1/"):
        return None
    app = scope.get("app")
    runtime = getattr(getattr(app, "state", None), "runtime", None)
    if runtime is None:
        return None
    try:
        scope.setdefault("state", {})[PRINCIPAL] = identify(
            runtime.keys,
            headers.get(b"x-api-key", b"").decode("latin-1") or None,
            headers.get(b"authorization", b"").decode("latin-1") or None,
        )
    except DomainError as exc:
        return exc
    return None


def _length_problem(headers: dict[bytes, bytes], limit: int) -> DomainError | None:
    length = headers.get(b"content-length", b"")
    if length.isdigit() and int(length) > limit:
        return errors.PayloadTooLarge(f"bodies are limited to {limit} bytes")
    return None


class Guard:
    """Refuse bad targets, unknown callers and oversized bodies early; answer every failure."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (anything else passes straight through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        early = (
            _target_problem(scope)
            or _caller_problem(scope, headers)
            or _length_problem(headers, self.max_body_bytes)
        )
        if early is not None:
            await errors.render(early, scope["path"])(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                refusal = errors.PayloadTooLarge(f"bodies are limited to {self.max_body_bytes} bytes")
                await errors.render(refusal, scope["path"])(scope, receive, send)
        except Exception:
            request_id = scope.get("state", {}).get("request_id")
            log.exception("unhandled error in %s %s (request %s)", scope["method"], scope["path"], request_id)
            if not started:
                failure = errors.InternalError(
                    "the service failed to answer this request; it is logged under the request id",
                    request_id=request_id,
                )
                await errors.render(failure, scope["path"])(scope, receive, send)
