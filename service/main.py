"""The FastAPI app: factory, lifespan (rulebooks and champion model loaded once), middleware."""

from __future__ import annotations

import gc
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from risk_models.scorer import Scorer
from service import errors, model_watch, observability, openapi
from service import runtime as runtime_module
from service.admission import Admission
from service.claims.queue_router import router as queues_router
from service.claims.router import router as claims_router
from service.complaints.router import router as complaints_router
from service.config import Settings, get_settings
from service.feed.router import router as feed_router
from service.investigations.router import router as investigations_router
from service.outbox import worker as outbox_worker
from service.payments.router import router as payments_router
from service.policies.router import router as policies_router
from service.rectification.router import router as rectification_router
from service.reports.metrics import DriftCollector, SlaCollector, WebhookCollector
from service.reports.router import router as reports_router
from service.rulebooks.router import router as rulebooks_router
from service.surveys.router import router as surveys_router
from service.web import common as web
from service.web.aftersales import router as web_aftersales
from service.web.auth import session_key
from service.web.forms import router as web_forms
from service.web.pages import router as web_pages
from service.web.survey import router as web_survey


def web_key(settings: Settings) -> bytes:
    """The key that signs the workbench's session cookies."""
    configured = settings.session_key.get_secret_value() if settings.session_key else None
    return session_key(settings.data_dir, configured)


class Liveness(BaseModel):
    """The process answers."""

    status: Literal["ok"]


class Readiness(BaseModel):
    """What the readiness probe checked."""

    status: str = Field(description="ready | not ready")
    database: str = Field(description="ok, or why it is unreachable")
    rulebooks: str = Field(description="the rulebooks loaded, name@version")
    model: str = Field(description="the fraud model loaded, or why not")
    model_update: str | None = Field(
        default=None, description="why the last new champion was not taken (the model above serves)"
    )


def create_app(settings: Settings | None = None, scorer: Scorer | None = None) -> FastAPI:
    """Build the app; tests pass their own settings and a small fixed scorer."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.runtime = runtime_module.build(settings, scorer=scorer)
        rt = app.state.runtime
        observability.record_versions(rt.store.shipped, rt.scorer.version if rt.scorer else None)
        app.state.metric_collectors = [
            SlaCollector(rt, settings.sla_metrics_seconds),
            DriftCollector(rt, settings.model_drift_threshold),
            WebhookCollector(rt),
        ]
        # Everything loaded so far (libraries, model, rulebooks) lives as long as the process:
        # keep it out of the collector's full passes, which otherwise stall requests for tens of ms.
        gc.collect()
        gc.freeze()
        stop = threading.Event()
        if settings.serving_model is not None and settings.model_refresh_seconds > 0:
            watcher = model_watch.Watcher(rt, settings.serving_model)
            args = (stop, settings.model_refresh_seconds)
            threading.Thread(target=watcher.run, args=args, name="model-watch", daemon=True).start()
        if settings.worker_in_process:
            threading.Thread(target=outbox_worker.run, args=(rt, stop), name="outbox", daemon=True).start()
        yield
        stop.set()
        app.state.runtime.close()

    app = FastAPIOffline(
        title="claims-adjudication",
        version="0.1.0",
        description="Claims adjudication with explained decisions and a fraud-risk early warning.",
        lifespan=lifespan,
        generate_unique_id_function=openapi.unique_id,
        static_url="/docs-assets",
    )
    errors.install(app)
    openapi.install(app)
    observability.configure_logging()
    # Added first, so it runs inside the observing middleware: waiting in line counts as latency.
    app.add_middleware(Admission, limit=settings.concurrent_requests)
    observability.install(app, settings.max_body_bytes)

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return errors.problem(
            409,
            "concurrent_update",
            "The claim changed meanwhile",
            "another request changed this claim at the same time; retry",
            request.url.path,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        return errors.problem(
            409,
            "conflict",
            "Conflict with stored data",
            "the request conflicts with data stored meanwhile; retry",
            request.url.path,
        )

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        """People who open the service's address land on the workbench."""
        return RedirectResponse("/app", status_code=307)

    @app.get("/healthz", tags=["health"])
    def healthz() -> Liveness:
        """Liveness: the process answers."""
        return Liveness(status="ok")

    @app.get(
        "/readyz",
        tags=["health"],
        response_model=Readiness,
        responses={503: {"model": Readiness, "description": "Not ready: the checks say what is missing"}},
    )
    def readyz(request: Request) -> JSONResponse:
        """Readiness: database reachable, rulebooks and model loaded."""
        rt = request.app.state.runtime
        checks = {}
        try:
            with rt.db.connect().execution_options(readonly=True) as connection:
                connection.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unreachable: {exc.__class__.__name__}"
        checks["rulebooks"] = ", ".join(f"{b.name}@{b.version}" for b in rt.store.shipped.values())
        checks["model"] = f"fraud-risk@{rt.scorer.version}" if rt.scorer else f"not loaded: {rt.model_error}"
        if rt.scorer is not None and rt.model_error:
            checks["model_update"] = rt.model_error
        ready = checks["database"] == "ok" and rt.scorer is not None
        return JSONResponse(
            {"status": "ready" if ready else "not ready", **checks},
            status_code=200 if ready else 503,
        )

    web.install(app, web_key(settings), secure=settings.environment == "production")
    app.mount("/app/static", StaticFiles(directory=web.HERE / "static"), name="workbench-static")
    for router in (
        web_survey,
        web_aftersales,
        web_pages,
        web_forms,
        policies_router,
        claims_router,
        feed_router,
        complaints_router,
        rectification_router,
        surveys_router,
        queues_router,
        payments_router,
        investigations_router,
        reports_router,
        rulebooks_router,
    ):
        app.include_router(router)
    return app
