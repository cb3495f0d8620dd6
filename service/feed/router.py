"""The change feed under /v1/events and webhook subscriptions under /v1/webhooks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from service.deps import DbSession, RowId, RuntimeDep, require
from service.feed import service as feed
from service.feed import webhooks
from service.feed.schemas import DeliveryOut, FeedPage, Kind, WebhookCreated, WebhookIn, WebhookOut
from service.security import CLAIM_READERS, Principal

router = APIRouter(tags=["feed"])
Admin = Annotated[Principal, Depends(require())]
MAX_POSITION = 2**63 - 1


@router.get("/v1/events", response_model=FeedPage)
def events(
    _: Annotated[Principal, Depends(require(*CLAIM_READERS))],
    session: DbSession,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION, description="the cursor: 0 for the start")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    kind: Annotated[list[Kind] | None, Query(description="only these kinds (repeat the parameter)")] = None,
) -> dict:
    """Claim events after a cursor, in the order they were committed: none missed, none twice."""
    found, through = feed.after(session, after, limit, tuple(kind or ()))
    # The head moves in the transaction that numbers the events: past it, nothing is committed.
    return {"events": found, "next_cursor": through, "more": feed.head(session) > through}


@router.post("/v1/webhooks", status_code=201, response_model=WebhookCreated)
def subscribe(who: Admin, body: WebhookIn, session: DbSession, runtime: RuntimeDep) -> dict:
    """Send the feed's events to a receiver, signed with the secret answered here once."""
    production = runtime.settings.environment == "production"
    hook, secret = webhooks.subscribe(
        session, who.name, body.url, list(body.kinds), body.description, body.from_start, production
    )
    out = {**webhooks.view(hook, feed.head(session)), "secret": secret}
    session.commit()
    return out


@router.get("/v1/webhooks", response_model=list[WebhookOut])
def list_webhooks(_: Admin, session: DbSession) -> list[dict]:
    """Every subscription, with its backlog and its last failure."""
    top = feed.head(session)
    return [webhooks.view(hook, top) for hook in webhooks.listing(session)]


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookOut)
def get_webhook(_: Admin, webhook_id: RowId, session: DbSession) -> dict:
    """One subscription."""
    return webhooks.view(webhooks.find(session, webhook_id), feed.head(session))


@router.post("/v1/webhooks/{webhook_id}/pause", response_model=WebhookOut)
def pause_webhook(_: Admin, webhook_id: RowId, session: DbSession) -> dict:
    """Stop delivering; what comes meanwhile waits for the resume."""
    out = webhooks.view(webhooks.pause(session, webhook_id), feed.head(session))
    session.commit()
    return out


@router.post("/v1/webhooks/{webhook_id}/resume", response_model=WebhookOut)
def resume_webhook(_: Admin, webhook_id: RowId, session: DbSession) -> dict:
    """Deliver again at once (after a pause, or to cut a failing receiver's wait short)."""
    out = webhooks.view(webhooks.resume(session, webhook_id), feed.head(session))
    session.commit()
    return out


@router.get("/v1/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def webhook_deliveries(
    _: Admin, webhook_id: RowId, session: DbSession, limit: Annotated[int, Query(ge=1, le=500)] = 50
) -> list[dict]:
    """The latest delivery attempts, the newest first: what went, what the receiver answered."""
    return [webhooks.delivery_view(row) for row in webhooks.deliveries(session, webhook_id, limit)]
