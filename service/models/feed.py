"""The change feed: every claim event numbered in commit order, and the webhooks that follow it.

Ids are drawn when rows are inserted, so on PostgreSQL a transaction that began later may
commit an event with a smaller id first: a reader tailing by id would skip the event that
commits after it. So each event also gets a *position*, drawn at commit from one counter row
that the committing transaction holds locked until its commit ends: positions are handed out
in the order transactions commit, and a reader that has seen position N has seen every event
numbered below it. The lock is taken last, after every other lock of the transaction, and held
only for the numbering and the commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.database import INSERTED, Base

EVENTS_TABLE = "claim_events"
_PENDING = "feed_events_pending"  # the ids of the claim events this transaction flushed: numbered at commit
_HEAD = text("SELECT position FROM feed_head WHERE id = 1")
_NUMBER = text(
    f"UPDATE {EVENTS_TABLE} SET position = :base + numbered.rn"
    f" FROM (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM {EVENTS_TABLE}"
    " WHERE position IS NULL) AS numbered"
    f" WHERE {EVENTS_TABLE}.id = numbered.id"
)
_ADVANCE = text("UPDATE feed_head SET position = :top WHERE id = 1")
# PostgreSQL, in one statement: the counter row is locked by its UPDATE (which reads its latest
# committed value) and this transaction's events follow it, found by id (a scan for unnumbered
# rows would also walk the dead versions every numbering leaves until VACUUM). One round trip,
# so the lock, held until the commit ends, waits on nothing but the COMMIT that comes next.
_NUMBER_LOCKED = text(
    "WITH mine AS (SELECT id, row_number() OVER (ORDER BY id) AS rn"
    f" FROM {EVENTS_TABLE} WHERE id = ANY(CAST(:ids AS BIGINT[])) AND position IS NULL),"
    " head AS (UPDATE feed_head SET position = position + (SELECT count(*) FROM mine)"
    " WHERE id = 1 RETURNING position - (SELECT count(*) FROM mine) AS base)"
    f" UPDATE {EVENTS_TABLE} SET position = head.base + mine.rn FROM head, mine"
    f" WHERE {EVENTS_TABLE}.id = mine.id"
)


class FeedHead(Base):
    """The one counter row: the last position handed out."""

    __tablename__ = "feed_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger)


class Webhook(Base):
    """A subscription to the change feed: events after `position` are still to be delivered."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    # The signing secret must be read to sign, so it is kept as given (shown once, never listed).
    secret: Mapped[str] = mapped_column(String(100))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # event kinds to send; empty: all
    description: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(BigInteger)  # delivered (or skipped as not wanted) through
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row, since the last success
    next_attempt_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    leased_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookDelivery(Base):
    """One attempt to deliver a batch of events: what was sent and what the receiver answered."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"), index=True)
    first_position: Mapped[int] = mapped_column(BigInteger)
    last_position: Mapped[int] = mapped_column(BigInteger)
    events: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer)  # 1 for a first try, counting failures before it
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[float] = mapped_column(Float)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


# A schema made from the tables (not the migrations) starts with its counter too.
event.listen(FeedHead.__table__, "after_create", DDL("INSERT INTO feed_head (id, position) VALUES (1, 0)"))


def _is_event(obj: Any) -> bool:
    return getattr(type(obj), "__tablename__", None) == EVENTS_TABLE


@event.listens_for(Session, "after_flush")
def _note_events(session: Session, _context: Any) -> None:
    # Still listed as new here, and given their ids by the flush.
    ids = [obj.id for obj in session.new if _is_event(obj)]
    if ids:
        session.info.setdefault(_PENDING, []).extend(ids)


@event.listens_for(Session, "before_commit")
def _number_events(session: Session) -> None:
    """Give this transaction's new claim events their positions, just before it commits."""
    if session.in_nested_transaction():
        return  # a savepoint's release: what it wrote may still be rolled back with its parent
    if session.new or session.dirty or session.deleted:
        session.flush()  # the commit's own flush comes after this hook
    inserted = session.info.pop(INSERTED, {})  # what this transaction wrote: forgotten at its end
    ids = session.info.pop(_PENDING, []) + inserted.get(EVENTS_TABLE, [])
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        # Ids of rows a rolled-back savepoint took away match nothing: the positions stay contiguous.
        session.execute(_NUMBER_LOCKED, {"ids": sorted(ids)})
        return
    # SQLite: the transaction already holds the one write lock, and its statements make no round trips.
    base = session.execute(_HEAD).scalar_one()
    numbered = session.execute(_NUMBER, {"base": base}).rowcount
    if numbered:
        session.execute(_ADVANCE, {"top": base + numbered})


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    # Only at the end of the whole transaction: a savepoint's rollback keeps the events before it.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(INSERTED, None)
