"""Prometheus metrics and JSON logs (with the request id and, where known, the claim number)."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import os
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.security import identify

REQUEST_SECONDS = Histogram(
    "claims_http_request_duration_seconds",
    "HTTP request latency by route",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
DECISIONS = Counter(
    "claims_adjudications_total", "Adjudications by route and coverage", ["route", "coverage"]
)
RISK_BANDS = Counter("claims_risk_bands_total", "Fraud-risk bands given", ["band"])
VERSIONS = Gauge(
    "claims_component_info",
    "Rulebook and model versions in use",
    ["component", "name", "version"],
    multiprocess_mode="liveall",
)
log = structlog.get_logger("claims")
# One mutable dict per request: endpoints run in worker threads with a copy of the context,
# so they write into this shared dict, which the request's own log line then includes.
_request: ContextVar[dict[str, Any] | None] = ContextVar("claims_request", default=None)


class JsonLines(logging.Formatter):
    """One JSON object per line: the service's own events (rendered by structlog) as they are,
    and every other record (uvicorn's, the libraries') made into one with its level and logger."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one JSON line."""
        message = record.getMessage()
        if message.startswith("{") and message.endswith("}"):
            return message
        line = {
            "event": message,
            "logger": record.name,
            "level": record.levelname.lower(),
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat().replace("+00:00", "Z"),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Log JSON lines to stdout; context (request id, claim number) is merged into each line."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the service's own requests are logged once
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )


def bind_claim(claim_number: str) -> None:
    """Add the claim number to every log line of this request."""
    structlog.contextvars.bind_contextvars(claim_number=claim_number)
    holder = _request.get()
    if holder is not None:
        holder["claim_number"] = claim_number


def record_adjudication(route: str, coverage: str, band: str | None) -> None:
    """Count one adjudication."""
    DECISIONS.labels(route, coverage).inc()
    if band:
        RISK_BANDS.labels(band).inc()


def record_versions(rulebooks: dict[str, Any], model_version: str | None) -> None:
    """Publish the rulebook and model versions in use."""
    for book in rulebooks.values():
        VERSIONS.labels("rulebook", book.name, f"{book.version}@{book.sha256[:12]}").set(1)
    if model_version:
        VERSIONS.labels("model", "fraud-risk", model_version).set(1)


REQUEST_ID = re.compile(r"[\x21-\x7e]{1,64}")


class Observe:
    """Request id, latency by route and one JSON log line per request.

    Plain ASGI rather than `@app.middleware("http")`: that wrapper runs every request through
    an extra task and memory stream, which costs more than everything this middleware does.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request (anything else passes straight through)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        # A caller's id is kept if it fits the records (1-64 printable characters); otherwise a
        # new one is made and the response says so.
        replaced = bool(given) and not REQUEST_ID.fullmatch(given)
        request_id = given if given and not replaced else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        holder: dict[str, Any] = {}
        token = _request.set(holder)
        status = 500  # what the caller gets if the app fails before answering
        tags = [(b"x-request-id", request_id.encode("latin-1"))]
        if replaced:
            tags.append(
                (b"x-request-id-replaced", b"the X-Request-ID sent was not 1-64 printable characters")
            )

        async def send_tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), *tags]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, receive, send_tagged)
        finally:
            elapsed = time.perf_counter() - start
            template = getattr(scope.get("route"), "path", "unmatched")
            REQUEST_SECONDS.labels(scope["method"], template, str(status)).observe(elapsed)
            if template not in ("/metrics", "/healthz"):
                log.info(
                    "request",
                    method=scope["method"],
                    route=template,
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                    **holder,
                )
            _request.reset(token)


def _check_scraper(request: Request) -> None:
    """Let /metrics answer only a known caller: an API key, the metrics token, or anyone if public."""
    runtime = request.app.state.runtime
    settings = runtime.settings
    if settings.metrics_public:
        return
    authorization = request.headers.get("authorization", "")
    token = settings.metrics_token
    if token and hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return
    identify(runtime.keys, request.headers.get("x-api-key"), authorization or None)


def install(app: FastAPI, max_body_bytes: int) -> None:
    """Add the request middleware (the guard inside it) and /metrics."""
    from service.guard import Guard

    app.add_middleware(Guard, max_body_bytes=max_body_bytes)
    app.add_middleware(Observe)

    @app.get("/metrics", tags=["health"], include_in_schema=False)
    def metrics(request: Request) -> Response:
        """Prometheus metrics (all workers when PROMETHEUS_MULTIPROC_DIR is set) and the app's collectors."""
        _check_scraper(request)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            body = generate_latest(registry)
        else:
            body = generate_latest()
        # The app's own collectors read the database (the same figures in every worker), per scrape.
        state = CollectorRegistry(auto_describe=False)  # registering must not run a collection
        for collector in getattr(request.app.state, "metric_collectors", ()):
            state.register(collector)
        return Response(body + generate_latest(state), media_type=CONTENT_TYPE_LATEST)
