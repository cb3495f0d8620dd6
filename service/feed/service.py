"""Reading the change feed: claim events after a cursor, in the order their transactions committed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.database import utc_text
from service.models.claims import Claim, ClaimEvent
from service.models.feed import FeedHead

KINDS = ("status", "route", "reserve", "payee", "assign")
_COLUMNS = (
    ClaimEvent.id,
    ClaimEvent.position,
    Claim.claim_number,
    Claim.external_reference,
    ClaimEvent.kind,
    ClaimEvent.old,
    ClaimEvent.new,
    ClaimEvent.why,
    ClaimEvent.at,
)


def head(session: Session) -> int:
    """The last position handed out: a new subscription starts after it."""
    return session.scalar(select(FeedHead.position).where(FeedHead.id == 1)) or 0


def after(
    session: Session, cursor: int, limit: int, kinds: tuple[str, ...] = ()
) -> tuple[list[dict[str, Any]], int]:
    """Up to `limit` events after a cursor (of the kinds asked, or all) and the cursor to ask from next.

    The next cursor moves past every event read, also those of kinds not asked for, so a
    filtered reader does not read them again.
    """
    query = (
        select(*_COLUMNS)
        .join(Claim, Claim.id == ClaimEvent.claim_id)
        .where(ClaimEvent.position > cursor)
        .order_by(ClaimEvent.position)
        .limit(limit)
    )
    rows = session.execute(query).all()
    events = [view(row) for row in rows if not kinds or row.kind in kinds]
    return events, rows[-1].position if rows else cursor


def view(row: Any) -> dict[str, Any]:
    """One event as the feed and the webhooks carry it; `id` is the same on every delivery."""
    return {
        "id": row.id,
        "position": row.position,
        "claim_number": row.claim_number,
        "external_reference": row.external_reference,
        "kind": row.kind,
        "old": row.old,
        "new": row.new,
        "why": row.why,
        "at": utc_text(row.at),
    }
