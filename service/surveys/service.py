"""Satisfaction follow-up: the survey after a claim is paid or denied, online through a one-time
link or by a call from a member of the claim's team (as the after-sales policy says), and its
answer recorded against the claim and the people who handled it."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from pydantic import Field, model_validator
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service import audit
from service.aftersales import Survey as SurveyPolicy
from service.database import utc
from service.errors import Conflict, Forbidden, NotFound
from service.models.aftersales import Survey
from service.models.claims import Claim
from service.rectification import service as rectification
from service.runtime import Runtime
from service.schemas import Strict
from service.security import SUPERVISORS, Principal, hash_key, holds_or_oversees


class CallIn(Strict):
    """One phone call to the customer: reached (with their rating) or not."""

    reached: bool
    rating: int | None = Field(default=None, ge=1, le=5, description="1 (poor) to 5 (very good)")
    comment: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _rating_if_reached(self) -> CallIn:
        if self.reached and self.rating is None:
            raise ValueError("rating: a customer who was reached gives a rating (1-5)")
        if not self.reached and self.rating is not None:
            raise ValueError("rating: only a customer who was reached gives a rating")
        return self


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def by_phone(policy: SurveyPolicy, claim: Claim) -> bool:
    """Whether the policy has a member of the claim's team call the customer instead of a link
    (only a customer with a phone number can be called)."""
    if not claim.contact_phone:
        return False
    return ("no_email" in policy.phone_when and not claim.contact_email) or (
        "major" in policy.phone_when and claim.route == "major"
    )


def start(session: Session, runtime: Runtime, claim: Claim) -> str | None:
    """Open the claim's survey; return the link's token for an online one, None for a call."""
    policy = runtime.settings.aftersales.survey
    token = secrets.token_urlsafe(24)
    phone = by_phone(policy, claim)
    now = _now()
    handlers = sorted({r.reviewer for r in claim.reviews} | ({claim.owner} if claim.owner else set()))
    # The call is made by someone of the team who did not handle the claim: nobody asks the
    # customer to rate their own work (with nobody else, the team's supervisors call).
    callers = [m for m in runtime.assignment.members(claim.team or "") if m not in handlers]
    session.add(
        Survey(
            claim_id=claim.id,
            token_hash=hash_key(token),  # a phone follow-up's link is never sent: nobody can use it
            handlers=handlers,
            created_at=now,
            expires_at=now + dt.timedelta(days=policy.token_days),
            method="phone" if phone else "online",
            team=claim.team if phone else None,
            assignee=callers[0] if phone and callers else None,
            calls=0,
        )
    )
    return None if phone else token


def state(runtime: Runtime, survey: Survey, now: dt.datetime | None = None) -> str:
    """answered, lapsed (expired, or too many calls unanswered) or open."""
    if survey.answered_at is not None:
        return "answered"
    if utc(survey.expires_at) < (now or _now()):
        return "lapsed"
    if survey.method == "phone" and survey.calls >= runtime.settings.aftersales.survey.phone_attempts:
        return "lapsed"
    return "open"


def answer(
    session: Session,
    runtime: Runtime,
    survey: Survey,
    rating: int,
    comment: str | None,
    by: Principal | None = None,
    request_id: str | None = None,
) -> None:
    """Record the rating once (the customer online, or the caller on the phone) and what follows it."""
    survey.rating, survey.comment, survey.answered_at = rating, (comment or "").strip() or None, _now()
    survey.answered_by = by.name if by else None
    claim = session.get(Claim, survey.claim_id)
    outcome = {
        "rating": rating,
        "comment": survey.comment,
        "handlers": survey.handlers,
        "method": survey.method,
    }
    if by is None:
        audit.record(
            session, claim, kind="survey_answered", actor_type="customer", actor="customer", outcome=outcome
        )
    else:
        audit.by_person(session, claim, by, kind="survey_answered", outcome=outcome, request_id=request_id)
    rectification.on_rating(session, runtime, claim, rating)


def get(session: Session, survey_id: int) -> Survey:
    """Load a survey or 404."""
    found = session.get(Survey, survey_id)
    if found is None:
        raise NotFound(f"no survey {survey_id}", field="survey_id")
    return found


def call(
    session: Session, runtime: Runtime, survey: Survey, data: CallIn, who: Principal, request_id: str
) -> Survey:
    """Record one call of a phone follow-up: its caller, a member of its team, or a supervisor."""
    session.refresh(survey, with_for_update=True)  # two callers at once: the second sees the first
    if survey.method != "phone":
        raise Conflict(
            f"survey {survey.id} is an online survey: the customer answers it through their link",
            state="online",
        )
    now_state = state(runtime, survey)
    if now_state != "open":
        raise Conflict(f"survey {survey.id} is {now_state} already", state=now_state)
    if who.name in survey.handlers:
        raise Forbidden(
            f"you handled claim {claim_number(session, survey)}: someone else asks the customer how it went",
            field="caller",
        )
    members = runtime.assignment.members(survey.team) if survey.team else ()
    if not holds_or_oversees(who, survey.assignee, members):
        raise Forbidden(
            f"the call for survey {survey.id} is for the {survey.team or 'claim'} team "
            f"({survey.assignee or 'no one named'}) or a supervisor",
            field="assignee",
        )
    if data.reached:
        answer(session, runtime, survey, data.rating, data.comment, by=who, request_id=request_id)
    else:
        survey.calls += 1
        claim = session.get(Claim, survey.claim_id)
        outcome = {"reached": False, "calls": survey.calls, "lapsed": state(runtime, survey) == "lapsed"}
        audit.by_person(session, claim, who, kind="survey_call", outcome=outcome, request_id=request_id)
    return survey


def claim_number(session: Session, survey: Survey) -> str | None:
    """The number of the claim a survey is about."""
    return session.scalar(select(Claim.claim_number).where(Claim.id == survey.claim_id))


def view(session: Session, runtime: Runtime, survey: Survey) -> dict[str, Any]:
    """Show a survey as staff see it (never its link)."""
    claim = session.get(Claim, survey.claim_id)
    return {
        "id": survey.id,
        "claim_number": claim.claim_number if claim else None,
        "method": survey.method,
        "state": state(runtime, survey),
        "team": survey.team,
        "assignee": survey.assignee,
        "calls": survey.calls,
        "contact_phone": claim.contact_phone if claim and survey.method == "phone" else None,
        "language": claim.language if claim else None,
        "handlers": survey.handlers,
        "created_at": utc(survey.created_at).isoformat(),
        "expires_at": utc(survey.expires_at).isoformat(),
        "rating": survey.rating,
        "comment": survey.comment,
        "answered_by": survey.answered_by,
        "answered_at": utc(survey.answered_at).isoformat() if survey.answered_at else None,
    }


def calls_due(session: Session, runtime: Runtime, who: Principal, mine: bool = False) -> list[dict[str, Any]]:
    """Open phone follow-ups, oldest first: the caller's own, or their teams' (a supervisor's: all)."""
    query = select(Survey).where(Survey.method == "phone", Survey.answered_at.is_(None))
    if mine:
        query = query.where(Survey.assignee == who.name)
    elif who.role not in SUPERVISORS:
        teams = runtime.assignment.teams_of(who.name)
        query = query.where(or_(Survey.assignee == who.name, Survey.team.in_(teams)))
    rows = session.scalars(query.order_by(Survey.created_at, Survey.id).limit(500))
    # A call the person may not make (they handled the claim) is not theirs to see as due.
    return [
        view(session, runtime, s) for s in rows if state(runtime, s) == "open" and who.name not in s.handlers
    ]
