"""What the change feed and the webhook endpoints take and answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Kind = Literal["status", "route", "reserve", "payee", "assign"]


class FeedEvent(BaseModel):
    """One claim event: `id` never changes (drop a repeat by it); `position` is its place in the feed."""

    id: int
    position: int
    claim_number: str
    external_reference: str | None
    kind: Kind
    old: str | None
    new: str
    why: str | None
    at: str


class FeedPage(BaseModel):
    """Events after the cursor asked for; ask again with `after=next_cursor`."""

    events: list[FeedEvent]
    next_cursor: int = Field(description="the cursor to ask from next (the same when nothing is new)")
    more: bool = Field(description="whether more events are waiting now")


class WebhookIn(BaseModel):
    """A receiver to send the feed's events to."""

    model_config = {"extra": "forbid"}
    url: str = Field(min_length=8, max_length=500, examples=["https://claims.example.com/hooks/claims"])
    kinds: list[Kind] = Field(default_factory=list, max_length=5, description="only these kinds; none: all")
    description: str | None = Field(default=None, max_length=200)
    from_start: bool = Field(default=False, description="send every event stored so far, not only new ones")


class WebhookOut(BaseModel):
    """A subscription: how far it has delivered, how far behind it is, and how its last tries went."""

    id: int
    url: str
    kinds: list[str]
    description: str | None
    created_by: str
    created_at: str | None
    active: bool
    position: int
    backlog: int = Field(description="events in the feed after its position")
    failures: int = Field(description="failed attempts in a row since the last delivery")
    next_attempt_at: str | None
    last_error: str | None
    delivered_at: str | None


class WebhookCreated(WebhookOut):
    """A new subscription, with its signing secret: shown this once."""

    secret: str


class DeliveryOut(BaseModel):
    """One attempt to deliver a batch: the positions it carried and the receiver's answer."""

    id: int
    first_position: int
    last_position: int
    events: int
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: float
    at: str | None
