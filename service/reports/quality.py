"""Service quality for management: satisfaction, complaint handling, claim timeliness, document
lapses and rectification, by month with a quarterly summary, and by team, person or line."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.claims import views
from service.database import utc
from service.models.aftersales import Complaint, Rectification, Survey
from service.models.claims import Claim, DecisionRecord
from service.runtime import Runtime

By = Literal["team", "person", "line"]


@dataclass
class Fact:
    """One thing that happened in the period, with the groups it counts under."""

    at: dt.date
    kind: str  # survey | complaint | decision | lapse | rectification
    groups: dict[str, list[str]]
    values: dict[str, Any] = field(default_factory=dict)


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def figures(facts: Iterable[Fact]) -> dict[str, Any]:
    """The KPIs of a set of facts."""
    facts = list(facts)
    surveys = [f for f in facts if f.kind == "survey"]
    ratings = [f.values["rating"] for f in surveys if f.values["rating"] is not None]
    complaints = [f for f in facts if f.kind == "complaint"]
    answered = [f for f in complaints if f.values["answered_in_time"] is not None]
    resolved = [f for f in complaints if f.values["resolved_in_time"] is not None]
    decisions = [f for f in facts if f.kind == "decision"]
    by_tier: dict[str, Counter] = {}
    for f in decisions:
        counts = by_tier.setdefault(f.values["tier"], Counter())
        counts["decided"] += 1
        counts["within_sla"] += f.values["within_sla"]
    items = [f for f in facts if f.kind == "rectification"]
    closed = [f for f in items if f.values["on_time"] is not None]
    return {
        "satisfaction": {
            "invited": len(surveys),
            "answered": len(ratings),
            "response_rate": _share(len(ratings), len(surveys)),
            "average": round(statistics.fmean(ratings), 3) if ratings else None,
            "distribution": {str(n): ratings.count(n) for n in range(1, 6)},
        },
        "complaints": {
            "received": len(complaints),
            "first_response_within_sla": _share(
                sum(f.values["answered_in_time"] for f in answered), len(answered)
            ),
            "resolved": len(resolved),
            "resolved_within_sla": _share(sum(f.values["resolved_in_time"] for f in resolved), len(resolved)),
            "upheld_rate": _share(sum(bool(f.values["upheld"]) for f in resolved), len(resolved)),
        },
        "claims": {
            "decided": len(decisions),
            "decided_within_sla": _share(sum(f.values["within_sla"] for f in decisions), len(decisions)),
            "by_tier": {
                tier: {**counts, "share": _share(counts["within_sla"], counts["decided"])}
                for tier, counts in sorted(by_tier.items())
            },
        },
        "document_lapses": sum(f.kind == "lapse" for f in facts),
        "rectification": {
            "closed": len(closed),
            "closed_on_time": _share(sum(bool(f.values["on_time"]) for f in closed), len(closed)),
            "overdue_open": sum(bool(f.values["overdue"]) for f in items),
        },
    }


def _claim_groups(claim: Claim | None, people: Iterable[str | None]) -> dict[str, list[str]]:
    return {
        "line": [claim.product if claim else "(no claim)"],
        "team": [(claim.team or "(none)") if claim else "(no claim)"],
        "person": sorted({p for p in people if p}) or ["(nobody)"],
    }


def collect(session: Session, runtime: Runtime, start: dt.date, end: dt.date) -> list[Fact]:
    """Every fact of the period [start, end] (days in the service's zone)."""
    zone = runtime.settings.zone
    begin = dt.datetime.combine(start, dt.time(0), zone).astimezone(dt.UTC)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    day = lambda moment: utc(moment).astimezone(zone).date()  # noqa: E731
    claims: dict[int, Claim] = {}

    def claim_of(claim_id: int | None) -> Claim | None:
        if claim_id is None:
            return None
        if claim_id not in claims:
            claims[claim_id] = session.scalar(
                select(Claim)
                .where(Claim.id == claim_id)
                .options(selectinload(Claim.events), selectinload(Claim.reviews))
            )
        return claims[claim_id]

    facts: list[Fact] = []
    for survey in session.scalars(
        select(Survey).where(Survey.created_at >= begin, Survey.created_at < finish)
    ):
        claim = claim_of(survey.claim_id)
        facts.append(
            Fact(
                day(survey.created_at),
                "survey",
                _claim_groups(claim, survey.handlers),
                {"rating": survey.rating},
            )
        )
    for complaint in session.scalars(
        select(Complaint).where(Complaint.received_at >= begin, Complaint.received_at < finish)
    ):
        claim = claim_of(complaint.claim_id)
        answered = utc(complaint.responded_at)
        resolved = utc(complaint.resolved_at)
        values = {
            "answered_in_time": None if answered is None else answered <= utc(complaint.first_response_due),
            "resolved_in_time": None if resolved is None else resolved <= utc(complaint.resolution_due),
            "upheld": complaint.upheld,
        }
        people = [complaint.resolved_by or complaint.responded_by]
        facts.append(Fact(day(complaint.received_at), "complaint", _claim_groups(claim, people), values))
    records = session.scalars(
        select(DecisionRecord).where(
            DecisionRecord.kind.in_(("decision", "documents_lapsed")),
            DecisionRecord.decided_at >= begin.isoformat(),
            DecisionRecord.decided_at < finish.isoformat(),
        )
    )
    for record in records:
        claim = claim_of(record.claim_id)
        at = day(dt.datetime.fromisoformat(record.decided_at))
        lapsed = record.kind == "documents_lapsed" or record.outcome.get("action") == "close_incomplete"
        if lapsed:
            facts.append(Fact(at, "lapse", _claim_groups(claim, [claim.owner])))
        if record.kind == "decision":
            clocks = views.clocks(session, runtime, claim)
            stages = {c["stage"]: c for c in clocks["stages"]}
            late = stages["review"]["breached"] or stages["decision"]["breached"]
            values = {"tier": clocks["tier"], "within_sla": not late}
            facts.append(Fact(at, "decision", _claim_groups(claim, [record.actor]), values))
    today = dt.datetime.now(zone).date()
    for item in session.scalars(select(Rectification)):
        closed = day(item.closed_at) if item.closed_at else None
        counted = closed if closed else (item.deadline if item.deadline < today else None)
        if counted is None or not start <= counted <= end:
            continue
        claim = claim_of(item.claim_id)
        groups = _claim_groups(claim, [item.owner])
        groups["team"] = [item.owner_team or "(none)"]
        values = {"on_time": None if closed is None else closed <= item.deadline, "overdue": closed is None}
        facts.append(Fact(counted, "rectification", groups, values))
    return facts


def _months(start: dt.date, end: dt.date) -> list[str]:
    months, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def service_quality(
    session: Session, runtime: Runtime, start: dt.date, end: dt.date, by: By
) -> dict[str, Any]:
    """The report: each month, each quarter, each group of `by`, and the whole period."""
    facts = collect(session, runtime, start, end)
    monthly = [
        {"period": month, **figures(f for f in facts if f.at.strftime("%Y-%m") == month)}
        for month in _months(start, end)
    ]
    quarter = lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}"  # noqa: E731
    quarters = sorted({quarter(dt.date.fromisoformat(m + "-01")) for m in _months(start, end)})
    quarterly = [{"period": q, **figures(f for f in facts if quarter(f.at) == q)} for q in quarters]
    groups = sorted({g for f in facts for g in f.groups[by]})
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by": by,
        "targets": runtime.settings.aftersales.kpi_targets,
        "total": figures(facts),
        "monthly": monthly,
        "quarterly": quarterly,
        "groups": [{by: g, **figures(f for f in facts if g in f.groups[by])} for g in groups],
    }
