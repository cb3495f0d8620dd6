"""Reviews and decisions: four eyes, the specialist's authority, approve or deny with reasons."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.claims import lifecycle
from service.claims.models import Claim, Review
from service.claims.schemas import DecisionIn, ReviewIn
from service.errors import Conflict, Forbidden, Unprocessable
from service.investigations.models import Investigation
from service.runtime import Runtime
from service.security import Principal


def senior_needed(runtime: Runtime, claim: Claim, amount: Decimal | None) -> bool:
    """Complex and major claims, and amounts over the specialist's authority, need a senior review."""
    limit = runtime.settings.specialist_authority_limit
    return claim.route in ("complex", "major") or (amount or claim.claimed_amount) > limit


def add_review(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    data: ReviewIn,
    who: Principal,
    request_id: str,
) -> Review:
    """Record a preliminary or senior review; four eyes: the senior is a different person."""
    stage_role = {"preliminary": "specialist", "senior": "senior_reviewer"}[data.stage]
    if who.role not in (stage_role, "admin"):
        raise Forbidden(f"a {data.stage} review is made by a {stage_role}", role=who.role)
    if data.stage == "preliminary":
        lifecycle.check(claim.status, "preliminary_review")
    else:
        lifecycle.check(claim.status, "senior_review")
        first = next((r for r in claim.reviews if r.stage == "preliminary"), None)
        if first is not None and first.reviewer == who.name:
            raise Conflict(
                f"four eyes: {who.name} made the preliminary review and cannot also make the senior review",
                rule="four_eyes",
            )
    review = Review(
        claim_id=claim.id,
        stage=data.stage,
        reviewer=who.name,
        recommendation=data.recommendation,
        amount=data.amount,
        notes=data.notes,
    )
    session.add(review)
    session.flush()
    audit.record(
        session,
        claim,
        kind=f"{data.stage}_review",
        actor_type="person",
        actor=who.name,
        outcome={"recommendation": data.recommendation, "notes": data.notes},
        amount=data.amount,
        request_id=request_id,
    )
    if data.stage == "preliminary" and senior_needed(runtime, claim, data.amount):
        lifecycle.apply(claim, "escalate")
    session.refresh(claim, ["reviews"])
    return review


def decide(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    data: DecisionIn,
    who: Principal,
    request_id: str,
) -> Claim:
    """Approve (at most the payable amount unless overridden) or deny with customer reasons."""
    lifecycle.check(claim.status, data.outcome)
    stages = {r.stage for r in claim.reviews}
    if "preliminary" not in stages:
        raise Conflict("a claim is decided after its preliminary review", missing="preliminary_review")
    if claim.status == "senior_review":
        if "senior" not in stages:
            raise Conflict("this claim needs its senior review before the decision", missing="senior_review")
        if who.role not in ("senior_reviewer", "admin"):
            raise Forbidden(
                "a claim that needed a senior review is decided by a senior reviewer", role=who.role
            )
    reasons: list[dict] = []
    if data.outcome == "approve":
        investigation = session.scalar(
            select(Investigation).where(Investigation.claim_id == claim.id, Investigation.status != "cleared")
        )
        if claim.on_hold or investigation is not None:
            raise Conflict(
                "the claim is under investigation and cannot be approved until the investigation clears it",
                state="on_hold",
            )
        payable = claim.payable_amount or Decimal("0.00")
        if data.amount > payable and not data.override_reason_code:
            raise Unprocessable(
                f"amount {data.amount} exceeds the payable amount {payable}: give override_reason_code",
                field="amount",
            )
        claim.approved_amount = data.amount
        reasons.append(
            {
                "code": data.override_reason_code or "APPROVED",
                "category": "decision",
                "customer": {
                    "zh-CN": f"您的索赔已获批准，赔付金额为 {data.amount} 元。",
                    "en": f"Your claim is approved; we will pay CNY {data.amount}.",
                },
            }
        )
    else:
        reasons.extend(
            {
                "code": code,
                "category": "decision",
                "customer": data.explanation.model_dump(by_alias=True),
            }
            for code in data.reason_codes
        )
    lifecycle.apply(claim, data.outcome)
    audit.record(
        session,
        claim,
        kind="decision",
        actor_type="person",
        actor=who.name,
        outcome={"decision": claim.status, "override_reason_code": data.override_reason_code},
        amount=data.amount,
        reasons=reasons,
        request_id=request_id,
    )
    return claim
