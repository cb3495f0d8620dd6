"""Who works a claim, by hand: take it from the team's queue, give it back, hand it on; and the
queues themselves, ordered by the next SLA due date."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
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

TAKERS = ("specialist", "senior_reviewer", "investigator")  # and admin
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


def _live() -> Select:
    return (
        select(Claim)
        .where(Claim.status.in_(LIVE))
        .options(selectinload(Claim.events), selectinload(Claim.reviews))
    )


def _ordered(session: Session, runtime: Runtime, claims: Any) -> list[dict[str, Any]]:
    rows = [views.summary(c, session, runtime) for c in claims]
    # The next SLA due date first; a claim with no running clock last; then the oldest report.
    return sorted(rows, key=lambda r: (r["sla_next_due"] is None, r["sla_next_due"] or "", r["report_date"]))


def mine(session: Session, runtime: Runtime, who: Principal) -> list[dict[str, Any]]:
    """The caller's open claims, the next due first."""
    return _ordered(session, runtime, session.scalars(_live().where(Claim.owner == who.name)))


def team_queue(session: Session, runtime: Runtime, team: str, waiting: bool) -> list[dict[str, Any]]:
    """A team's open claims (only those nobody holds, if `waiting`), the next due first."""
    if team not in runtime.assignment.policy.teams:
        raise NotFound(f"no team {team!r} in the assignment file", field="team")
    query = _live().where(Claim.team == team)
    if waiting:
        query = query.where(Claim.owner.is_(None))
    return _ordered(session, runtime, session.scalars(query))


def counts(session: Session, runtime: Runtime, who: Principal) -> list[dict[str, Any]]:
    """Every team's queue with its open, waiting and breached claims, the caller's teams marked."""
    rows = {name: {"open": 0, "waiting": 0, "breached": 0} for name in runtime.assignment.policy.teams}
    for claim in session.scalars(_live().where(Claim.team.is_not(None))):
        if claim.team not in rows:
            continue  # a team since removed from the file: its claims show in the list of claims
        row = rows[claim.team]
        row["open"] += 1
        row["waiting"] += claim.owner is None
        row["breached"] += bool(views.summary(claim, session, runtime)["sla_breached"])
    mine_ = set(runtime.assignment.teams_of(who.name))
    return [
        {
            "team": name,
            "label": {"en": team.label.en, "zh-CN": team.label.zh_cn},
            "members": list(team.members),
            "mine": name in mine_,
            **rows[name],
        }
        for name, team in runtime.assignment.policy.teams.items()
    ]
