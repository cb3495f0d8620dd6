"""Webhook subscriptions to the change feed, and their delivery: signed, retried, never skipped.

Each subscription keeps the feed position it has delivered through. The worker takes a lease on
a due subscription, posts the next batch of events after that position and moves the position
on only when the receiver answers 2xx; otherwise it logs the attempt and tries the same batch
again after a backoff (1 s, doubling, at most 5 minutes) for as long as it takes. Deliveries are
at least once (a worker that dies after the post and before recording it leaves the batch to be
sent again), in feed order, so a claim's events always arrive in the order they happened; each
event's `id` lets the receiver drop a repeat.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import case, or_, select, update
from sqlalchemy.orm import Session

from service import signing
from service.database import utc_text
from service.errors import NotFound, Unprocessable
from service.feed import service as feed
from service.models.feed import Webhook, WebhookDelivery

BATCH = 100
LEASE = dt.timedelta(seconds=60)
TIMEOUT_SECONDS = 10.0
MAX_BACKOFF = dt.timedelta(minutes=5)
# A post: (url, body, headers) -> the receiver's status code; raises httpx.HTTPError if none came.
Post = Callable[[str, bytes, dict[str, str]], int]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def backoff(failures: int) -> dt.timedelta:
    """How long to wait after a run of failed attempts: 1 s, doubling, at most 5 minutes."""
    return min(dt.timedelta(seconds=2 ** max(failures - 1, 0)), MAX_BACKOFF)


def check_url(url: str, production: bool) -> str:
    """A receiver's address: http(s) with a host; https only in production."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Unprocessable("the receiver's url must be http(s)://host/…", field="url")
    if production and parts.scheme != "https":
        raise Unprocessable("in production a receiver's url must be https", field="url")
    return url


def subscribe(
    session: Session,
    who: str,
    url: str,
    kinds: list[str],
    description: str | None,
    from_start: bool,
    production: bool,
) -> tuple[Webhook, str]:
    """Subscribe a receiver to the feed (from now on, or from its start); return it and its secret."""
    unknown = sorted(set(kinds) - set(feed.KINDS))
    if unknown:
        raise Unprocessable(f"unknown event kinds {unknown} (kinds: {', '.join(feed.KINDS)})", field="kinds")
    secret = f"whsec_{secrets.token_urlsafe(32)}"
    now = _now()
    hook = Webhook(
        url=check_url(url, production),
        secret=secret,
        kinds=sorted(set(kinds)),
        description=description,
        created_by=who,
        created_at=now,
        active=True,
        position=0 if from_start else feed.head(session),
        failures=0,
        next_attempt_at=now,
    )
    session.add(hook)
    session.flush()
    return hook, secret


def find(session: Session, hook_id: int, lock: bool = False) -> Webhook:
    """A subscription by id, or 404."""
    query = select(Webhook).where(Webhook.id == hook_id)
    hook = session.scalar(query.with_for_update() if lock else query)
    if hook is None:
        raise NotFound(f"webhook {hook_id} not found", field="webhook_id")
    return hook


def listing(session: Session) -> list[Webhook]:
    """Every subscription, the oldest first."""
    return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def pause(session: Session, hook_id: int) -> Webhook:
    """Stop delivering to a receiver; its position is kept, so resuming loses nothing."""
    hook = find(session, hook_id, lock=True)
    hook.active = False
    return hook


def resume(session: Session, hook_id: int) -> Webhook:
    """Deliver again, at once: after a pause, or to cut a failing receiver's backoff short."""
    hook = find(session, hook_id, lock=True)
    hook.active, hook.next_attempt_at = True, _now()
    return hook


def deliveries(session: Session, hook_id: int, limit: int) -> list[WebhookDelivery]:
    """A subscription's latest delivery attempts, the newest first."""
    find(session, hook_id)
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == hook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def poster(client: httpx.Client) -> Post:
    """A post through one client (its connections kept alive between deliveries)."""

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        return client.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS).status_code

    return post


def _lease(session: Session, hook_id: int, now: dt.datetime) -> bool:
    taken = session.execute(
        update(Webhook)
        .where(
            Webhook.id == hook_id,
            Webhook.active.is_(True),
            Webhook.next_attempt_at <= now,
            or_(Webhook.leased_until.is_(None), Webhook.leased_until < now),
        )
        .values(leased_until=now + LEASE)
    )
    return taken.rowcount == 1


def deliver_due(sessions: Any, readers: Any, post: Post, now: dt.datetime | None = None) -> int:
    """Deliver what is due to every subscription not leased elsewhere; return how many events went."""
    now = now or _now()
    with readers() as reader:
        due = reader.scalars(
            select(Webhook.id).where(
                Webhook.active.is_(True),
                Webhook.next_attempt_at <= now,
                or_(Webhook.leased_until.is_(None), Webhook.leased_until < now),
            )
        ).all()
    sent = 0
    for hook_id in due:
        with sessions() as session:
            if not _lease(session, hook_id, now):
                continue  # another worker has it
            session.commit()
        sent += _drain(sessions, readers, hook_id, post)
    return sent


def _drain(sessions: Any, readers: Any, hook_id: int, post: Post, rounds: int = 20) -> int:
    """Deliver batches to one leased subscription until it is caught up, fails, or `rounds` pass."""
    sent = 0
    for _ in range(rounds):
        with readers() as reader:
            hook = reader.get(Webhook, hook_id)
            url, secret, kinds, position, failures = (
                hook.url,
                hook.secret.encode(),
                tuple(hook.kinds),
                hook.position,
                hook.failures,
            )
            events, through = feed.after(reader, position, BATCH, kinds)
        if through == position:
            break
        if not events:  # only kinds the receiver does not want: move past them
            _advance(sessions, hook_id, through, None)
            continue
        body = json.dumps({"webhook": hook_id, "events": events}, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "claims-adjudication-webhooks",
            signing.SIGNATURE: signing.sign(secret, int(time.time()), body),
        }
        started = time.perf_counter()
        try:
            code, error = post(url, body, headers), None
        except httpx.HTTPError as exc:
            code, error = None, f"{type(exc).__name__}: {exc}"[:2000]
        took = (time.perf_counter() - started) * 1000
        attempt = {
            "first_position": events[0]["position"],
            "last_position": through,
            "events": len(events),
            "attempt": failures + 1,
            "status_code": code,
            "duration_ms": round(took, 1),
        }
        if code is not None and 200 <= code < 300:
            _advance(sessions, hook_id, through, attempt)
            sent += len(events)
            continue
        _failed(sessions, hook_id, error or f"the receiver answered {code}", attempt)
        return sent
    _release(sessions, hook_id)
    return sent


def _advance(sessions: Any, hook_id: int, through: int, attempt: dict[str, Any] | None) -> None:
    now = _now()
    with sessions() as session:
        # Never backwards: a worker whose lease ran out may record an older batch late.
        moved = case((Webhook.position < through, through), else_=Webhook.position)
        values: dict[str, Any] = {"position": moved}
        if attempt is not None:
            values |= {"failures": 0, "last_error": None, "delivered_at": now}
            session.add(WebhookDelivery(webhook_id=hook_id, error=None, at=now, **attempt))
        session.execute(update(Webhook).where(Webhook.id == hook_id).values(**values))
        session.commit()


def _failed(sessions: Any, hook_id: int, error: str, attempt: dict[str, Any]) -> None:
    now = _now()
    with sessions() as session:
        hook = session.get(Webhook, hook_id)
        hook.failures += 1
        hook.last_error = error
        hook.next_attempt_at = now + backoff(hook.failures)
        hook.leased_until = None
        session.add(WebhookDelivery(webhook_id=hook_id, error=error, at=now, **attempt))
        session.commit()


def _release(sessions: Any, hook_id: int) -> None:
    with sessions() as session:
        session.execute(update(Webhook).where(Webhook.id == hook_id).values(leased_until=None))
        session.commit()


def backlog(hook: Webhook, head: int) -> int:
    """The events in the feed after what a subscription has delivered."""
    return max(head - hook.position, 0)


def view(hook: Webhook, head: int) -> dict[str, Any]:
    """A subscription as the API lists it: never its secret; how far behind the feed it is."""
    return {
        "id": hook.id,
        "url": hook.url,
        "kinds": hook.kinds,
        "description": hook.description,
        "created_by": hook.created_by,
        "created_at": utc_text(hook.created_at),
        "active": hook.active,
        "position": hook.position,
        "backlog": backlog(hook, head),
        "failures": hook.failures,
        "next_attempt_at": utc_text(hook.next_attempt_at),
        "last_error": hook.last_error,
        "delivered_at": utc_text(hook.delivered_at),
    }


def delivery_view(row: WebhookDelivery) -> dict[str, Any]:
    """One delivery attempt as the log shows it."""
    return {
        "id": row.id,
        "first_position": row.first_position,
        "last_position": row.last_position,
        "events": row.events,
        "attempt": row.attempt,
        "status_code": row.status_code,
        "error": row.error,
        "duration_ms": row.duration_ms,
        "at": utc_text(row.at),
    }
