"""Each open claim's SLA clocks, and the two dates kept on its row so queues sort and count in SQL.

The clocks are a pure function of the claim's status changes and reviews (service/sla.py). A
queue of thousands of claims cannot recompute them all on every read, so every flush that
changes a claim also writes:

- `sla_due`: the next due date of a running or paused clock, as of that change (a paused
  clock's due date moves a day later for each working day it waits, until the claim changes
  again or `claims sla refresh` runs);
- `sla_breach_on`: the first day a clock is breached if nothing else happens: the working day
  after a running clock's due date, or the day it was found breached. A paused clock cannot
  breach while paused: it only resumes through a status change, which writes the dates again.

A claim that nobody works any more (paid, denied, closed) keeps neither.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from rules.rulebook import Rulebook
from service import sla
from service.adjudication.flow import decided_by
from service.database import utc
from service.lifecycle import LIVE
from service.models.claims import Claim, ClaimEvent, Review
from service.runtime import RUNTIME, Runtime


def clocks(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    now: dt.datetime,
    book: Rulebook | None = None,
    pending: tuple[Review, ...] = (),
) -> tuple[str, list[sla.Clock]]:
    """Return the claim's tier and its stage clocks at `now` (a review not yet written counts now).

    `book` is the rulebook that decides the claim, when the caller has it at hand already;
    `pending` are reviews about to be written that the claim's list does not hold yet.
    """
    params = (book or decided_by(session, runtime, claim)).params
    tier = claim.route or params["default_route"]
    changes = [sla.Change(utc(e.at), e.new) for e in claim.events if e.kind == "status"]
    held = list(claim.reviews)
    every = held + [r for r in pending if r not in held]
    reviews = sorted(utc(r.created_at) if r.created_at else now for r in every)
    return tier, sla.clocks(changes, reviews, params["sla"][tier], runtime.settings.calendar, now)


def dates(stage_clocks: list[sla.Clock], calendar: sla.Calendar, today: dt.date) -> tuple[Any, Any]:
    """Return (next due date, first breached day) of a live claim's clocks."""
    live = [c for c in stage_clocks if c.state in ("running", "paused")]
    due = min((c.due for c in live if c.due), default=None)
    breach = [today for c in stage_clocks if c.breached]
    breach += [calendar.add(c.due, 1) for c in stage_clocks if c.state == "running" and c.due]
    return due, min(breach, default=None)


def stamp(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    now: dt.datetime | None = None,
    book: Rulebook | None = None,
    pending: tuple[Review, ...] = (),
) -> None:
    """Write the claim's next due date and first breached day (none once nobody works it)."""
    due = breach = None
    if claim.status in LIVE:
        now = now or dt.datetime.now(dt.UTC)
        _, stage_clocks = clocks(session, runtime, claim, now, book, pending)
        due, breach = dates(stage_clocks, runtime.settings.calendar, now.date())
    # Set only on a change: an unchanged claim stays out of the UPDATE (and its version as it is).
    if claim.sla_due != due:
        claim.sla_due = due
    if claim.sla_breach_on != breach:
        claim.sla_breach_on = breach


@event.listens_for(Session, "before_flush")
def _restamp(session: Session, _context: Any, _instances: Any) -> None:
    """Every flush that touches a claim (its row, a status event, a review) writes its dates again."""
    runtime = session.info.get(RUNTIME)
    if runtime is None:
        return  # a unit of work outside a runtime (migrations, read-only sessions)
    touched: dict[int, Claim] = {}
    pending: dict[int, list[Review]] = {}
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, Claim):
            touched[id(obj)] = obj
    for obj in session.new:
        # A new review or status event may name its claim by id only (no relationship set).
        if isinstance(obj, Review) or (isinstance(obj, ClaimEvent) and obj.kind == "status"):
            claim = obj.claim if isinstance(obj, Review) and obj.claim is not None else None
            if claim is None and obj.claim_id is not None:
                claim = session.get(Claim, obj.claim_id)
            if claim is not None:
                touched[id(claim)] = claim
                if isinstance(obj, Review):
                    pending.setdefault(id(claim), []).append(obj)
    now = dt.datetime.now(dt.UTC)
    for key, claim in touched.items():
        stamp(session, runtime, claim, now, pending=tuple(pending.get(key, ())))


def refresh(session: Session, runtime: Runtime, batch: int = 500) -> int:
    """Recompute every live claim's dates (after a calendar change); return how many changed.

    Each batch is committed on its own, so the write lock is held a batch at a time.
    """
    changed, last = 0, 0
    while True:
        claims = session.scalars(
            select(Claim).where(Claim.status.in_(LIVE), Claim.id > last).order_by(Claim.id).limit(batch)
        ).all()
        if not claims:
            return changed
        for claim in claims:
            before = (claim.sla_due, claim.sla_breach_on)
            stamp(session, runtime, claim)
            changed += before != (claim.sla_due, claim.sla_breach_on)
        last = claims[-1].id
        session.commit()
