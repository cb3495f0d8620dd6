"""Opening, closing and tracking rectification items."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.database import utc
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.lifecycle import LIVE
from service.models.aftersales import Complaint, Rectification
from service.models.claims import Claim
from service.runtime import Runtime
from service.schemas import Strict
from service.security import Principal, holds_or_oversees


class RectificationIn(Strict):
    """A rectification notice raised by a supervisor."""

    requirement: str = Field(min_length=1, max_length=4000)
    claim_number: str | None = Field(default=None, max_length=30)
    owner_team: str | None = Field(default=None, max_length=40)
    owner: str | None = Field(default=None, max_length=80)
    deadline: dt.date | None = None
    source: str = Field(default="supervisor", pattern=r"^(supervisor|sla_breach)$")


class ClosureIn(Strict):
    """The evidence that the problem was put right."""

    evidence: str = Field(min_length=1, max_length=4000)


def _today(runtime: Runtime) -> dt.date:
    return dt.datetime.now(runtime.settings.zone).date()


def _open(
    session: Session,
    runtime: Runtime,
    *,
    source: str,
    requirement: str,
    opened_by: str,
    claim: Claim | None = None,
    complaint: Complaint | None = None,
    owner_team: str | None = None,
    owner: str | None = None,
    deadline: dt.date | None = None,
) -> Rectification:
    days = runtime.settings.aftersales.rectification.default_working_days
    item = Rectification(
        source=source,
        claim_id=claim.id if claim else None,
        complaint_id=complaint.id if complaint else None,
        owner_team=owner_team or (claim.team if claim else None),
        owner=owner or (claim.owner if claim else None),
        requirement=requirement,
        deadline=deadline or runtime.settings.calendar.add(_today(runtime), days),
        status="open",
        opened_by=opened_by,
        opened_at=dt.datetime.now(dt.UTC),
    )
    session.add(item)
    return item


def raise_notice(session: Session, runtime: Runtime, data: RectificationIn, who: Principal) -> Rectification:
    """A supervisor's rectification notice (about a claim, if it names one)."""
    claim = None
    if data.claim_number:
        claim = session.scalar(select(Claim).where(Claim.claim_number == data.claim_number))
        if claim is None:
            raise NotFound(f"no claim {data.claim_number}", field="claim_number")
    if data.owner_team and data.owner_team not in runtime.assignment.policy.teams:
        raise Unprocessable(f"no team {data.owner_team!r} in the assignment file", field="owner_team")
    # An owner is a person of the staff (a system's key owns nothing), of the team if one is named.
    people = {p.name for p in runtime.keys.values() if p.role != "claims_system"}
    if data.owner and data.owner not in people:
        raise Unprocessable(f"nobody of the staff called {data.owner!r} has a key", field="owner")
    if data.owner and data.owner_team and data.owner not in runtime.assignment.members(data.owner_team):
        raise Unprocessable(f"{data.owner!r} is no member of the {data.owner_team} team", field="owner")
    if not (data.owner_team or data.owner or claim):
        raise Unprocessable(
            "name an owner team or person (or the claim whose team owns it)", field="owner_team"
        )
    if data.deadline and data.deadline < _today(runtime):
        raise Unprocessable("the deadline is in the past", field="deadline")
    item = _open(
        session,
        runtime,
        source=data.source,
        requirement=data.requirement,
        opened_by=who.name,
        claim=claim,
        owner_team=data.owner_team,
        owner=data.owner,
        deadline=data.deadline,
    )
    session.flush()
    return item


def on_upheld_complaint(session: Session, runtime: Runtime, complaint: Complaint) -> None:
    """An upheld complaint opens an item for the team of its claim, if the policy says so."""
    if complaint.upheld and "upheld_complaint" in runtime.settings.aftersales.rectification.open_on:
        claim = session.get(Claim, complaint.claim_id) if complaint.claim_id else None
        _open(
            session,
            runtime,
            source="complaint",
            requirement=f"upheld complaint {complaint.id} ({complaint.category}, cause {complaint.cause})",
            opened_by="aftersales-policy",
            claim=claim,
            complaint=complaint,
        )


def on_rating(session: Session, runtime: Runtime, claim: Claim, rating: int) -> None:
    """A low satisfaction rating opens an item for the claim's team, if the policy says so."""
    policy = runtime.settings.aftersales.rectification
    if "low_rating" in policy.open_on and rating <= policy.low_rating_at_most:
        _open(
            session,
            runtime,
            source="survey",
            requirement=f"the customer rated claim {claim.claim_number} {rating} of 5",
            opened_by="aftersales-policy",
            claim=claim,
        )


def sweep_breaches(session: Session, runtime: Runtime, today: dt.date) -> int:
    """Open one item for each open claim past an SLA deadline that has none yet (if the policy
    says so); return how many. Claims another worker is sweeping are skipped, not waited for."""
    if "sla_breach" not in runtime.settings.aftersales.rectification.open_on:
        return 0
    has_item = select(Rectification.id).where(
        Rectification.claim_id == Claim.id, Rectification.source == "sla_breach"
    )
    query = select(Claim).where(Claim.status.in_(LIVE), Claim.sla_breach_on <= today, ~has_item.exists())
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Claim)
    claims = list(session.scalars(query.order_by(Claim.id).limit(200)))
    for claim in claims:
        _open(
            session,
            runtime,
            source="sla_breach",
            requirement=f"claim {claim.claim_number} is past an SLA deadline ({claim.route or 'default'})",
            opened_by="aftersales-policy",
            claim=claim,
        )
    return len(claims)


def escalate_overdue(session: Session, runtime: Runtime, today: dt.date) -> int:
    """Escalate each open item past its deadline, once, to the policy's supervising team (if it
    names one); return how many. Items another worker is escalating are skipped."""
    team = runtime.settings.aftersales.rectification.escalate_to
    if team is None:
        return 0
    query = select(Rectification).where(
        Rectification.status == "open", Rectification.deadline < today, Rectification.escalated_at.is_(None)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    items = list(session.scalars(query.order_by(Rectification.id).limit(200)))
    now = dt.datetime.now(dt.UTC)
    for item in items:
        item.escalated_at, item.escalated_to = now, team
    return len(items)


def get(session: Session, item_id: int) -> Rectification:
    """Load an item or 404."""
    found = session.get(Rectification, item_id)
    if found is None:
        raise NotFound(f"no rectification item {item_id}", field="rectification_id")
    return found


def close(
    session: Session, runtime: Runtime, item: Rectification, data: ClosureIn, who: Principal
) -> Rectification:
    """Close an item with its evidence (once): its owner, a member of its team, or a supervisor."""
    session.refresh(item, with_for_update=True)  # two at once: the second waits, then sees the first
    if item.status == "closed":
        raise Conflict(f"rectification item {item.id} is closed already", state="closed")
    members = (
        runtime.assignment.members(item.owner_team)
        if item.owner_team in runtime.assignment.policy.teams
        else ()
    )
    if not holds_or_oversees(who, item.owner, members):
        owner = item.owner or item.owner_team or "nobody"
        raise Forbidden(
            f"item {item.id} belongs to {owner}: its owner, its team or a supervisor closes it", field="owner"
        )
    item.status, item.evidence, item.closed_by = "closed", data.evidence, who.name
    item.closed_at = dt.datetime.now(dt.UTC)
    return item


def view(session: Session, runtime: Runtime, item: Rectification) -> dict[str, Any]:
    """Show an item: whether it is overdue, or was closed on time."""
    today = _today(runtime)
    closed_on = item.closed_at.astimezone(runtime.settings.zone).date() if item.closed_at else None
    number = (
        session.scalar(select(Claim.claim_number).where(Claim.id == item.claim_id)) if item.claim_id else None
    )
    return {
        "id": item.id,
        "source": item.source,
        "claim_number": number,
        "complaint_id": item.complaint_id,
        "owner_team": item.owner_team,
        "owner": item.owner,
        "requirement": item.requirement,
        "deadline": item.deadline.isoformat(),
        "status": item.status,
        "overdue": item.status == "open" and today > item.deadline,
        "escalated_to": item.escalated_to,
        "escalated_at": utc(item.escalated_at).isoformat() if item.escalated_at else None,
        "on_time": None if closed_on is None else closed_on <= item.deadline,
        "opened_by": item.opened_by,
        "evidence": item.evidence,
        "closed_by": item.closed_by,
    }


def listing(
    session: Session,
    runtime: Runtime,
    status: str | None,
    overdue: bool | None,
    escalated: bool | None = None,
) -> list[dict[str, Any]]:
    """Items, the earliest deadline first."""
    query = select(Rectification).order_by(Rectification.deadline, Rectification.id)
    if status:
        query = query.where(Rectification.status == status)
    if escalated is not None:
        flag = Rectification.escalated_at.is_not(None)
        query = query.where(flag if escalated else ~flag)
    rows = [view(session, runtime, r) for r in session.scalars(query)]
    return [r for r in rows if overdue is None or r["overdue"] == overdue]


def tracking(session: Session, runtime: Runtime) -> dict[str, Any]:
    """Open, overdue, closed and closed-on-time items per owning team and per source."""
    teams: dict[str, dict[str, int]] = defaultdict(
        lambda: {"open": 0, "overdue": 0, "escalated": 0, "closed": 0, "on_time": 0}
    )
    for row in listing(session, runtime, None, None):
        for key in (f"team:{row['owner_team'] or '(none)'}", f"source:{row['source']}"):
            counts = teams[key]
            counts["open" if row["status"] == "open" else "closed"] += 1
            counts["overdue"] += bool(row["overdue"])
            counts["escalated"] += row["escalated_to"] is not None
            counts["on_time"] += bool(row["on_time"])
    return {"by": dict(sorted(teams.items()))}
