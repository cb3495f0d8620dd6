"""Investigation outcomes: cleared lifts the hold; confirmed fraud keeps it. Both are labels."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.database import utc_text
from service.errors import Conflict, NotFound
from service.models.claims import Claim
from service.models.investigations import Investigation
from service.schemas import Strict
from service.security import Principal


class OutcomeIn(Strict):
    """An investigator's finding."""

    outcome: Literal["confirmed_fraud", "cleared"]
    notes: str = Field(min_length=1, max_length=4000)


def get(session: Session, investigation_id: int) -> Investigation:
    """Load an investigation or 404."""
    found = session.get(Investigation, investigation_id)
    if found is None:
        raise NotFound(f"no investigation {investigation_id}", field="investigation_id")
    return found


def conclude(
    session: Session, investigation: Investigation, data: OutcomeIn, who: Principal, request_id: str
) -> Investigation:
    """Record the outcome; a cleared claim may be approved again."""
    if investigation.status != "open":
        raise Conflict(
            f"investigation {investigation.id} is already {investigation.status}",
            state=investigation.status,
        )
    claim = session.get(Claim, investigation.claim_id)
    investigation.status = data.outcome
    investigation.notes = data.notes
    investigation.investigator = who.name
    investigation.closed_at = dt.datetime.now(dt.UTC)
    claim.on_hold = data.outcome != "cleared"
    audit.by_person(
        session,
        claim,
        who,
        kind="investigation_outcome",
        outcome={"outcome": data.outcome, "notes": data.notes, "on_hold": claim.on_hold},
        request_id=request_id,
    )
    return investigation


def listing(session: Session, status: str | None, limit: int, offset: int) -> list[dict]:
    """List investigations with their claims, newest first."""
    query = select(Investigation, Claim.claim_number).join(Claim, Claim.id == Investigation.claim_id)
    if status:
        query = query.where(Investigation.status == status)
    rows = session.execute(query.order_by(Investigation.id.desc()).limit(limit).offset(offset)).all()
    return [view(inv, number) for inv, number in rows]


def view(inv: Investigation, claim_number: str) -> dict:
    """Show one investigation."""
    return {
        "id": inv.id,
        "claim_number": claim_number,
        "status": inv.status,
        "reason": inv.reason,
        "risk_score": inv.risk_score,
        "notes": inv.notes,
        "investigator": inv.investigator,
        "opened_at": utc_text(inv.opened_at),
        "closed_at": utc_text(inv.closed_at),
    }
