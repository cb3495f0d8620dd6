"""Receiving, answering and resolving complaints, their clocks, and the statistics."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import audit
from service.assignment import fewest
from service.complaints.schemas import ComplaintIn, HandOverIn, ResolutionIn, ResponseIn
from service.database import utc
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.models.aftersales import Complaint, Job
from service.models.claims import Claim
from service.rectification import service as rectification
from service.runtime import Runtime
from service.security import Principal, holds_or_oversees


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def clocks(
    runtime: Runtime, received: dt.datetime, severity: str, channel: str = "hotline"
) -> tuple[dt.datetime, dt.datetime]:
    """When the first response and the resolution are due for a complaint received at a moment."""
    settings, policy = runtime.settings, runtime.settings.aftersales
    return (
        policy.first_response_due(received, channel, settings.calendar, settings.zone),
        policy.resolution_due(received, severity, settings.calendar, settings.zone),
    )


def receive(session: Session, runtime: Runtime, data: ComplaintIn, who: Principal) -> Complaint:
    """Record a complaint, start its clocks and plan its escalation."""
    claim = None
    if data.claim_number:
        claim = session.scalar(select(Claim).where(Claim.claim_number == data.claim_number))
        if claim is None:
            raise NotFound(f"no claim {data.claim_number}", field="claim_number")
    now = _now()
    first, resolution = clocks(runtime, now, data.severity, data.channel)
    team = runtime.settings.aftersales.complaints.team
    complaint = Complaint(
        channel=data.channel,
        customer=data.customer,
        contact=data.contact,
        claim_id=claim.id if claim else None,
        category=data.category,
        severity=data.severity,
        text=data.text,
        status="open",
        team=team,
        owner=least_loaded(session, runtime.assignment.members(team)),
        received_by=who.name,
        received_at=now,
        first_response_due=first,
        resolution_due=resolution,
    )
    session.add(complaint)
    session.flush()
    share = runtime.settings.aftersales.complaints.escalate_at
    for clock, due in (("first_response", first), ("resolution", resolution)):
        session.add(
            Job(
                kind="complaint_escalation",
                claim_id=None,
                dedupe_key=f"complaint:{complaint.id}:escalation:{clock}",
                due_at=now + (due - now) * share,
                status="pending",
                attempts=0,
                payload={"complaint_id": complaint.id, "clock": clock},
            )
        )
    if claim is not None:
        audit.by_person(
            session,
            claim,
            who,
            kind="complaint_received",
            outcome={"complaint": complaint.id, "category": data.category, "severity": data.severity},
            request_id=None,
        )
    return complaint


def least_loaded(session: Session, members: tuple[str, ...]) -> str | None:
    """The complaints team's member with the fewest complaints not yet resolved."""
    counts = session.execute(
        select(Complaint.owner, func.count())
        .where(Complaint.owner.in_(members), Complaint.status != "resolved")
        .group_by(Complaint.owner)
    ).all()
    return fewest(members, dict(counts))


def hand_over(
    session: Session, runtime: Runtime, complaint: Complaint, data: HandOverIn, who: Principal
) -> Complaint:
    """Give a complaint to another member of its team: its owner or a supervisor does."""
    session.refresh(complaint, with_for_update=True)
    if complaint.status == "resolved":
        raise Conflict(f"complaint {complaint.id} is resolved", state="resolved")
    if not holds_or_oversees(who, complaint.owner):
        raise Forbidden(
            f"complaint {complaint.id} is {complaint.owner or 'nobody'}'s: they or a supervisor hand it over",
            field="owner",
        )
    members = runtime.assignment.members(complaint.team or "")
    if data.to not in members:
        raise Unprocessable(
            f"{data.to!r} is no member of the {complaint.team} team: {list(members)}", field="to"
        )
    before, complaint.owner = complaint.owner, data.to
    if complaint.claim_id is not None:  # kept with the claim's decisions, as a claim's own reassignment is
        audit.by_person(
            session,
            session.get(Claim, complaint.claim_id),
            who,
            kind="complaint_assigned",
            outcome={"complaint": complaint.id, "from": before, "to": data.to, "reason": data.reason},
            request_id=None,
        )
    return complaint


def get(session: Session, complaint_id: int) -> Complaint:
    """Load a complaint or 404."""
    found = session.get(Complaint, complaint_id)
    if found is None:
        raise NotFound(f"no complaint {complaint_id}", field="complaint_id")
    return found


def _may_handle(runtime: Runtime, complaint: Complaint, who: Principal) -> None:
    """Its owner, a member of its team or a supervisor answers a complaint; nobody else."""
    members = runtime.assignment.members(complaint.team or "")
    if not holds_or_oversees(who, complaint.owner, members):
        raise Forbidden(
            f"complaint {complaint.id} is the {complaint.team} team's "
            f"(owner {complaint.owner or 'none'}): its members or a supervisor answer it",
            field="owner",
        )


def respond(
    session: Session, runtime: Runtime, complaint: Complaint, data: ResponseIn, who: Principal
) -> Complaint:
    """The first response; a complaint answered or closed already is refused."""
    session.refresh(complaint, with_for_update=True)  # two at once: the second waits, then sees the first
    _may_handle(runtime, complaint, who)
    if complaint.status != "open":
        raise Conflict(
            f"complaint {complaint.id} is {complaint.status}: it has its response", state=complaint.status
        )
    complaint.status, complaint.response = "responded", data.text
    complaint.responded_at, complaint.responded_by = _now(), who.name
    return complaint


def resolve(
    session: Session, runtime: Runtime, complaint: Complaint, data: ResolutionIn, who: Principal
) -> Complaint:
    """Close a complaint with its resolution, cause and whether it was upheld (once)."""
    session.refresh(complaint, with_for_update=True)  # two at once: the second waits, then sees the first
    _may_handle(runtime, complaint, who)
    if complaint.status == "resolved":
        raise Conflict(f"complaint {complaint.id} is resolved already", state="resolved")
    now = _now()
    if complaint.responded_at is None:  # resolved at first contact: that was the response
        complaint.responded_at, complaint.responded_by, complaint.response = now, who.name, data.resolution
    complaint.status, complaint.resolution = "resolved", data.resolution
    complaint.cause, complaint.upheld = data.cause, data.upheld
    complaint.resolved_at, complaint.resolved_by = now, who.name
    if complaint.claim_id is not None:
        claim = session.get(Claim, complaint.claim_id)
        audit.by_person(
            session,
            claim,
            who,
            kind="complaint_resolved",
            outcome={"complaint": complaint.id, "cause": data.cause, "upheld": data.upheld},
            request_id=None,
        )
    rectification.on_upheld_complaint(session, runtime, complaint)
    return complaint


def escalate(session: Session, complaint_id: int, clock: str = "first_response") -> None:
    """The escalation job: a complaint near its clock's end and not past that step is marked."""
    complaint = session.get(Complaint, complaint_id)
    if complaint is None or complaint.escalated_at is not None:
        return
    behind = complaint.status == "open" if clock == "first_response" else complaint.status != "resolved"
    if behind:
        complaint.escalated_at = _now()


def view(session: Session, complaint: Complaint, now: dt.datetime | None = None) -> dict[str, Any]:
    """Show a complaint with its clocks: due, done and whether each was met."""
    now = now or _now()
    number = (
        session.scalar(select(Claim.claim_number).where(Claim.id == complaint.claim_id))
        if complaint.claim_id
        else None
    )

    def clock(due: dt.datetime, done: dt.datetime | None) -> dict[str, Any]:
        due, done = utc(due), utc(done)
        return {
            "due": due.isoformat(),
            "done": done.isoformat() if done else None,
            "met": None if done is None and now <= due else bool(done and done <= due),
            "breached": (done or now) > due,
        }

    return {
        "id": complaint.id,
        "claim_number": number,
        "channel": complaint.channel,
        "customer": complaint.customer,
        "contact": complaint.contact,
        "category": complaint.category,
        "severity": complaint.severity,
        "text": complaint.text,
        "status": complaint.status,
        "team": complaint.team,
        "owner": complaint.owner,
        "received_by": complaint.received_by,
        "received_at": utc(complaint.received_at).isoformat(),
        "escalated": complaint.escalated_at is not None,
        "first_response": clock(complaint.first_response_due, complaint.responded_at),
        "resolution": clock(complaint.resolution_due, complaint.resolved_at),
        "response": complaint.response,
        "resolution_text": complaint.resolution,
        "cause": complaint.cause,
        "upheld": complaint.upheld,
    }


def listing(
    session: Session,
    status: str | None,
    claim_number: str | None,
    limit: int,
    offset: int,
    owner: str | None = None,
) -> list[dict[str, Any]]:
    """Complaints, newest first (of one claim, one owner, or in one state, if asked)."""
    query = select(Complaint).order_by(Complaint.id.desc())
    if status:
        query = query.where(Complaint.status == status)
    if owner:
        query = query.where(Complaint.owner == owner)
    if claim_number:
        query = query.where(
            Complaint.claim_id.in_(select(Claim.id).where(Claim.claim_number == claim_number))
        )
    return [view(session, c) for c in session.scalars(query.limit(limit).offset(offset))]


def statistics(session: Session, runtime: Runtime, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Complaints received in [start, end]: counts by category, cause, line, channel and month,
    the share answered and resolved within their clocks, and the upheld rate."""
    zone = runtime.settings.zone
    begin = dt.datetime.combine(start, dt.time(0), zone).astimezone(dt.UTC)
    finish = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), zone).astimezone(dt.UTC)
    rows = session.execute(
        select(Complaint, Claim.product)
        .outerjoin(Claim, Claim.id == Complaint.claim_id)
        .where(Complaint.received_at >= begin, Complaint.received_at < finish)
    ).all()
    by: dict[str, Counter] = defaultdict(Counter)
    answered = resolved = answered_in_time = resolved_in_time = upheld = 0
    for complaint, product in rows:
        month = utc(complaint.received_at).astimezone(zone).strftime("%Y-%m")
        for key, value in (
            ("category", complaint.category),
            ("cause", complaint.cause or "(open)"),
            ("line", product or "(no claim)"),
            ("channel", complaint.channel),
            ("month", month),
        ):
            by[key][value] += 1
        if complaint.responded_at is not None:
            answered += 1
            answered_in_time += utc(complaint.responded_at) <= utc(complaint.first_response_due)
        if complaint.resolved_at is not None:
            resolved += 1
            resolved_in_time += utc(complaint.resolved_at) <= utc(complaint.resolution_due)
            upheld += bool(complaint.upheld)
    share = lambda part, whole: None if whole == 0 else round(part / whole, 4)  # noqa: E731
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "received": len(rows),
        "by": {key: dict(sorted(counts.items())) for key, counts in sorted(by.items())},
        "first_response_within_sla": share(answered_in_time, answered),
        "resolved_within_sla": share(resolved_in_time, resolved),
        "upheld_rate": share(upheld, resolved),
        "open": len(rows) - resolved,
    }
