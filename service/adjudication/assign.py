"""Applying the assignment policy to a claim: at intake, and again when its route or risk changes.

The policy (service/assignment.py) names a team and whether a member takes the claim at once;
here the member is picked (the fewest open claims, then the order the file lists them) and the
change is kept as a claim event with the rule and its reason.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from service.assignment import fewest
from service.lifecycle import LIVE
from service.models.claims import Claim, ClaimEvent
from service.runtime import Runtime

# Plain columns on the connection, built once: asked at every intake.
OPEN_BY_OWNER = (
    select(Claim.owner, func.count())
    .where(Claim.owner.in_(bindparam("members", expanding=True)), Claim.status.in_(LIVE))
    .group_by(Claim.owner)
)


def least_loaded(session: Session, members: tuple[str, ...]) -> str | None:
    """Return the member with the fewest open claims (ties: the first listed), or None."""
    if not members:
        return None
    counts = dict(session.connection().execute(OPEN_BY_OWNER, {"members": list(members)}).all())
    return fewest(members, counts)


def place(claim: Claim, team: str | None, owner: str | None, why: str) -> bool:
    """Put a claim in a team's queue and with an owner (or none); keep the change. False if unchanged."""
    if (claim.team, claim.owner) == (team, owner):
        return False
    before = None if claim.team is None and claim.owner is None else f"{claim.team or ''}/{claim.owner or ''}"
    claim.events.append(
        ClaimEvent(
            kind="assign", old=before, new=f"{team or ''}/{owner or ''}", why=why, at=dt.datetime.now(dt.UTC)
        )
    )
    claim.team, claim.owner = team, owner
    return True


def assign(session: Session, runtime: Runtime, claim: Claim) -> bool:
    """Apply the policy; a claim already in the team it names (and held by one of its members,
    where the rule gives it to one) stays where it is. Returns whether it moved."""
    decision = runtime.assignment.decide(
        {
            "route": claim.route,
            "risk_band": claim.risk_band,
            "product": claim.product,
            "peril": claim.peril,
            "channel": claim.channel,
        }
    )
    members = runtime.assignment.members(decision.team)
    if claim.team == decision.team and (not decision.least_loaded or claim.owner in members):
        return False
    with session.no_autoflush:  # counts other claims: this one's pending changes can wait
        owner = least_loaded(session, members) if decision.least_loaded else None
    return place(claim, decision.team, owner, f"{decision.rule}: {decision.why}")
