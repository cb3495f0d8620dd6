"""Who works a claim, by hand: take it from the team's queue, give it back, hand it on; and the
queues themselves, ordered by the next SLA due date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session, selectinload

from service import audit
from service.adjudication.assign import place
from service.claims import views
from service.claims.schemas import AssignmentIn
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.lifecycle import LIVE
from service.models.claims import Claim
from service.runtime import Runtime
from service.security import Principal

REASSIGNERS = ("senior_reviewer",)  # and admin


def change(
    session: Session, runtime: Runtime, claim: Claim, data: AssignmentIn, who: Principal, request_id: str
) -> None:
    """Carry out one assignment action on a live claim, or refuse it naming the field at fault."""
    if claim.status not in LIVE:
        raise Conflict(
            f"claim {claim.claim_number} is {claim.status}: nobody works it any more", field="status"
        )
    policy = runtime.assignment
    if data.action == "take":
        if claim.owner == who.name:
            return  # already yours: a retry changes nothing
        if claim.owner is not None:
            raise Conflict(
                f"{claim.owner} already works claim {claim.claim_number}", field="owner", owner=claim.owner
            )
        if who.role != "admin" and claim.team is not None and who.name not in policy.members(claim.team):
            raise Forbidden(f"{who.name} is not a member of {claim.team}", field="team")
        team, owner, why = claim.team, who.name, f"taken by {who.name}"
    elif data.action == "release":
        if claim.owner != who.name:
            raise Conflict(
                f"{who.name} does not hold claim {claim.claim_number}", field="owner", owner=claim.owner
            )
        team, owner, why = claim.team, None, f"given back to the {claim.team} queue by {who.name}"
    else:
        if who.role not in (*REASSIGNERS, "admin"):
            raise Forbidden("only a senior reviewer reassigns a claim", field="action")
        if not (data.reason or "").strip():
            raise Unprocessable("a reassignment needs a reason", field="reason")
        team = data.team or claim.team
        if team not in policy.policy.teams:
            raise Unprocessable(f"no team {team!r} in the assignment file", field="team")
        if data.to is not None and data.to not in policy.members(team):
            raise Unprocessable(f"{data.to} is not a member of {team}", field="to")
        owner, why = data.to, f"reassigned by {who.name}: {data.reason}"
    if place(claim, team, owner, why):
        audit.by_person(
            session,
            claim,
            who,
            kind="assignment",
            outcome={"action": data.action, "team": team, "owner": owner, "reason": data.reason},
            request_id=request_id,
        )


@dataclass(frozen=True)
class Filters:
    """What a queue may be narrowed to: line, route, status, risk band, and breached or not."""

    product: str | None = None
    route: str | None = None
    status: str | None = None
    risk_band: str | None = None
    breached: bool | None = None


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()  # the day the clocks count in (service/sla.py)


def _live(filters: Filters) -> Select:
    query = select(Claim).where(Claim.status.in_(LIVE))
    for column, value in (
        (Claim.product, filters.product),
        (Claim.route, filters.route),
        (Claim.status, filters.status),
        (Claim.risk_band, filters.risk_band),
    ):
        if value is not None:
            query = query.where(column == value)
    if filters.breached is not None:
        late = Claim.sla_breach_on <= _today()
        query = query.where(late if filters.breached else or_(Claim.sla_breach_on.is_(None), ~late))
    return query


def _page(
    session: Session,
    runtime: Runtime,
    name: str,
    query: Select,
    limit: int,
    offset: int,
    by_breach: bool = False,
) -> dict[str, Any]:
    """One page of a queue, ordered and cut in SQL; only its claims' clocks are computed."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    # The next SLA due date first (the breached queue: the longest overdue first); a claim with
    # no running clock last; then the oldest report.
    first = (Claim.sla_breach_on,) if by_breach else ()
    ordered = query.order_by(*first, Claim.sla_due.is_(None), Claim.sla_due, Claim.report_date, Claim.id)
    claims = session.scalars(
        ordered.limit(limit).offset(offset).options(selectinload(Claim.events), selectinload(Claim.reviews))
    ).all()
    items = [views.summary(c, session, runtime) for c in claims]
    return {"queue": name, "total": total, "limit": limit, "offset": offset, "items": items}


def mine(
    session: Session, runtime: Runtime, who: Principal, filters: Filters, limit: int = 50, offset: int = 0
) -> dict[str, Any]:
    """A page of the caller's open claims, the next due first."""
    query = _live(filters).where(Claim.owner == who.name)
    return _page(session, runtime, f"person/{who.name}", query, limit, offset)


def _known(runtime: Runtime, team: str) -> None:
    if team not in runtime.assignment.policy.teams:
        raise NotFound(f"no team {team!r} in the assignment file", field="team")


def team_queue(
    session: Session,
    runtime: Runtime,
    team: str,
    waiting: bool,
    filters: Filters,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of a team's open claims (only those nobody holds, if `waiting`), the next due first."""
    _known(runtime, team)
    query = _live(filters).where(Claim.team == team)
    if waiting:
        query = query.where(Claim.owner.is_(None))
    return _page(session, runtime, f"team/{team}", query, limit, offset)


def breached(
    session: Session,
    runtime: Runtime,
    team: str | None,
    filters: Filters,
    limit: int = 50,
    offset: int = 0,
) -> dict[str, Any]:
    """A page of the open claims past a deadline (of one team, if named), the longest due first."""
    query = _live(replace(filters, breached=True))
    if team is not None:
        _known(runtime, team)
        query = query.where(Claim.team == team)
    return _page(session, runtime, f"breached/{team or 'all'}", query, limit, offset, by_breach=True)


def counts(session: Session, runtime: Runtime, who: Principal) -> list[dict[str, Any]]:
    """Every team's queue with its open, waiting and breached claims, the caller's teams marked."""
    late = Claim.sla_breach_on <= _today()
    rows = {
        team: {"open": open_, "waiting": int(waiting or 0), "breached": int(late_ or 0)}
        for team, open_, waiting, late_ in session.execute(
            select(
                Claim.team,
                func.count(),
                func.sum(case((Claim.owner.is_(None), 1), else_=0)),
                func.sum(case((late, 1), else_=0)),
            )
            .where(Claim.status.in_(LIVE), Claim.team.is_not(None))
            .group_by(Claim.team)
        )
    }
    empty = {"open": 0, "waiting": 0, "breached": 0}
    mine_ = set(runtime.assignment.teams_of(who.name))
    # A team since removed from the file is left out: its claims show in the list of claims.
    return [
        {
            "team": name,
            "label": {"en": team.label.en, "zh-CN": team.label.zh_cn},
            "members": list(team.members),
            "mine": name in mine_,
            **rows.get(name, empty),
        }
        for name, team in runtime.assignment.policy.teams.items()
    ]
