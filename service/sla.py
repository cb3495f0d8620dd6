"""Working-day SLA clocks: per tier and stage, paused while the customer owes documents.

The calendar is the `holidays` library's (China by default, make-up working Saturdays
included) plus any extra closure days. A clock counts working days after the day its stage
started; it is breached once it has used more than the rulebook allows. Everything here is
a pure function of a claim's timestamped status changes and reviews, so any claim's clocks
can be recomputed at any time (a re-route simply changes the tier they are computed for).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import holidays

STAGES = ("document_request", "review", "decision", "payment")
REVIEWING = ("under_review", "senior_review")


@lru_cache(maxsize=8)
def _holidays(country: str) -> holidays.HolidayBase:
    return holidays.country_holidays(country, years=range(2015, 2036))


@dataclass(frozen=True)
class Calendar:
    """Working days of one country, with extra closure days (e.g. a typhoon office closure)."""

    country: str = "CN"
    closures: frozenset[dt.date] = frozenset()

    def load(self) -> Calendar:
        """Build the holiday table now: the library imports every country's module (~0.1 s)."""
        _holidays(self.country)
        return self

    def is_working_day(self, day: dt.date) -> bool:
        """Return whether the office works that day (make-up Saturdays count)."""
        return day not in self.closures and _holidays(self.country).is_working_day(day)

    def add(self, start: dt.date, days: int) -> dt.date:
        """Return the `days`-th working day after `start`."""
        day = start
        while days > 0:
            day += dt.timedelta(days=1)
            days -= self.is_working_day(day)
        return day

    def count(self, start: dt.date, end: dt.date) -> int:
        """Count working days after `start` up to and including `end`."""
        total, day = 0, start
        while day < end:
            day += dt.timedelta(days=1)
            total += self.is_working_day(day)
        return total


@dataclass(frozen=True)
class Change:
    """A status change at a moment."""

    at: dt.datetime
    status: str


@dataclass(frozen=True)
class Clock:
    """One stage's clock."""

    stage: str
    state: str  # not_started | running | paused | done
    allowed: int
    started: dt.date | None = None
    due: dt.date | None = None
    completed: dt.date | None = None
    used: int = 0
    left: int = 0
    breached: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "stage": self.stage,
            "state": self.state,
            "allowed_working_days": self.allowed,
            "started": self.started.isoformat() if self.started else None,
            "due": self.due.isoformat() if self.due else None,
            "completed": self.completed.isoformat() if self.completed else None,
            "working_days_used": self.used,
            "working_days_left": self.left,
            "breached": self.breached,
        }


def _first(
    changes: list[Change], statuses: Iterable[str], after: dt.datetime | None = None
) -> dt.datetime | None:
    wanted = set(statuses)
    return next((c.at for c in changes if c.status in wanted and (after is None or c.at >= after)), None)


def _active(changes: list[Change], start: dt.datetime, end: dt.datetime, statuses: tuple[str, ...]) -> list:
    """Return the (from, to) spans inside [start, end] during which the claim was in `statuses`."""
    spans, opened = [], None
    for change, following in zip(changes, [*changes[1:], None], strict=True):
        span_start = max(change.at, start)
        span_end = min(following.at if following else end, end)
        if span_end <= span_start or change.status not in statuses:
            continue
        if opened and opened[1] == span_start:
            opened = (opened[0], span_end)
            spans[-1] = opened
        else:
            opened = (span_start, span_end)
            spans.append(opened)
    return spans


def _clock(
    stage: str,
    allowed: int,
    calendar: Calendar,
    start: dt.datetime | None,
    end: dt.datetime | None,
    now: dt.datetime,
    changes: list[Change],
    pausable: bool,
) -> Clock:
    if start is None:
        return Clock(stage, "not_started", allowed, left=allowed)
    until = end or now
    spans = _active(changes, start, until, REVIEWING) if pausable else [(start, until)]
    used = sum(calendar.count(a.date(), b.date()) for a, b in spans)
    paused = max(calendar.count(start.date(), until.date()) - used, 0)
    current = changes[-1].status if changes else None
    state = "done" if end else ("paused" if pausable and current not in REVIEWING else "running")
    return Clock(
        stage,
        state,
        allowed,
        started=start.date(),
        due=calendar.add(start.date(), allowed + paused),
        completed=end.date() if end else None,
        used=used,
        left=allowed - used,
        breached=used > allowed,
    )


def clocks(
    changes: list[Change],
    review_times: list[dt.datetime],
    sla_days: dict[str, int],
    calendar: Calendar,
    now: dt.datetime,
) -> list[Clock]:
    """Compute every stage's clock from a claim's status changes and review times (oldest first)."""
    reported = _first(changes, ["reported"])
    requested = _first(changes, ["documents_pending", *REVIEWING], reported)
    review_start = _first(changes, REVIEWING)
    decided = _first(changes, ["approved", "denied"])
    approved = _first(changes, ["approved"])
    paid = _first(changes, ["paid"])
    current = changes[-1].status if changes else None

    done_reviews = [t for t in review_times if decided is None or t <= decided]
    review_done = None
    if decided is not None:
        review_done = max(done_reviews, default=decided)
    elif done_reviews and current == "under_review":
        review_done = done_reviews[-1]  # reviewed, no senior review needed: waiting for the decision
    return [
        _clock(
            "document_request",
            sla_days["document_request"],
            calendar,
            reported,
            requested,
            now,
            changes,
            False,
        ),
        _clock("review", sla_days["review"], calendar, review_start, review_done, now, changes, True),
        _clock("decision", sla_days["decision"], calendar, review_done, decided, now, changes, True),
        _clock("payment", sla_days["payment"], calendar, approved, paid, now, changes, False),
    ]


def summary(stage_clocks: list[Clock], calendar: Calendar, today: dt.date) -> dict[str, Any]:
    """Return whether any clock is breached and the next due date of a running clock."""
    running = [c for c in stage_clocks if c.state in ("running", "paused")]
    next_due = min((c.due for c in running if c.due), default=None)
    return {
        "breached": any(c.breached for c in stage_clocks),
        "next_due": next_due.isoformat() if next_due else None,
        "due_soon": any(
            c.state == "running" and not c.breached and c.due and calendar.count(today, c.due) <= 1
            for c in running
        ),
    }
