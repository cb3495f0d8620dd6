"""Reviews and decisions: four eyes, authority and exposure, approve or deny with declared reasons."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit, exposure, lifecycle
from service.adjudication import decided_by
from service.claims import authority, views
from service.claims.authority import SENIOR
from service.claims.schemas import DecisionIn, ReviewIn
from service.errors import Conflict, Forbidden, Unprocessable
from service.models.claims import Claim, Review
from service.models.investigations import Investigation
from service.outbox import service as outbox
from service.runtime import Runtime
from service.security import Principal

# A reason the rules add themselves that can stand behind a denial.
SYSTEM_DENIAL_CODES = frozenset({"BELOW_DEDUCTIBLE"})


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
    if data.amount is not None:
        # The reviewer's amount is the claim's best estimate now: it becomes the case reserve.
        exposure.lock_policy(session, claim.policy_id)
        exposure.check(session, claim, claim.paid_amount + data.amount, "reserve")
        exposure.set_reserve(claim, data.amount, f"{data.stage} review by {who.name}")
    session.add(review)
    session.flush()
    audit.by_person(
        session,
        claim,
        who,
        kind=f"{data.stage}_review",
        outcome={"recommendation": data.recommendation, "notes": data.notes},
        amount=data.amount,
        request_id=request_id,
    )
    if data.stage == "preliminary" and senior_needed(runtime, claim, data.amount):
        lifecycle.apply(claim, "escalate")
    session.refresh(claim, ["reviews"])
    return review


def nothing_payable(claim: Claim) -> bool:
    """The rules already say this claim pays nothing: not covered, or nothing above the deductible."""
    return claim.coverage == "not_covered" or (claim.payable_amount is not None and claim.payable_amount <= 0)


def decide(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    data: DecisionIn,
    who: Principal,
    request_id: str,
) -> Claim:
    """Approve within authority and exposure, or deny with declared reasons the customer can read."""
    lifecycle.check(claim.status, data.outcome)
    stages = {r.stage for r in claim.reviews}
    # A claim the rules already say pays nothing may be denied at once: the denial is the review.
    if "preliminary" not in stages and not (data.outcome == "deny" and nothing_payable(claim)):
        raise Conflict("a claim is decided after its preliminary review", missing="preliminary_review")
    if claim.status == "senior_review":
        if "senior" not in stages:
            raise Conflict("this claim needs its senior review before the decision", missing="senior_review")
        if who.role not in SENIOR:
            raise Forbidden(
                "a claim that needed a senior review is decided by a senior reviewer", role=who.role
            )
    if data.outcome == "approve":
        outcome, reasons = _approve(session, runtime, claim, data, who)
    else:
        outcome, reasons = _deny(session, runtime, claim, data)
    lifecycle.apply(claim, data.outcome)
    audit.by_person(
        session,
        claim,
        who,
        kind="decision",
        outcome={"decision": claim.status, **outcome},
        amount=data.amount if data.outcome == "approve" else None,
        reasons=reasons,
        request_id=request_id,
    )
    outbox.decided(session, runtime, claim, reasons, request_id)
    return claim


def _approve(
    session: Session, runtime: Runtime, claim: Claim, data: DecisionIn, who: Principal
) -> tuple[dict, list[dict]]:
    investigation = session.scalar(
        select(Investigation).where(Investigation.claim_id == claim.id, Investigation.status != "cleared")
    )
    if claim.on_hold or investigation is not None:
        raise Conflict(
            "the claim is under investigation and cannot be approved until the investigation clears it",
            state="on_hold",
        )
    approvers = authority.check_approval(runtime.settings, claim, data.amount, data.override_reason_code, who)
    exposure.lock_policy(session, claim.policy_id)
    exposure.check(session, claim, data.amount, "approve")
    claim.approved_amount = data.amount
    exposure.set_reserve(claim, data.amount - claim.paid_amount, f"approved by {who.name}")
    reason = {
        "code": data.override_reason_code or "APPROVED",
        "category": "decision",
        "customer": {
            "zh-CN": f"您的索赔已获批准，赔付金额为 {data.amount} 元。",
            "en": f"Your claim is approved; we will pay CNY {data.amount}.",
        },
    }
    return {"override_reason_code": data.override_reason_code, **approvers}, [reason]


def _deny(session: Session, runtime: Runtime, claim: Claim, data: DecisionIn) -> tuple[dict, list[dict]]:
    """Check the reason codes against the rulebook's and the declared manual ones; default the texts."""
    book = decided_by(session, runtime, claim)
    latest = views.latest_adjudication(session, claim)
    fired = {r["code"]: r for r in (latest.reasons if latest else [])}
    codes = data.reason_codes or [
        code for code, r in fired.items() if r.get("effect", {}).get("coverage") == "not_covered"
    ]
    if not codes and "BELOW_DEDUCTIBLE" in fired:
        codes = ["BELOW_DEDUCTIBLE"]
    if not codes:
        raise Unprocessable(
            "a denial needs reason_codes: the rules gave no reason to deny this claim", field="reason_codes"
        )
    declared = {r.spec.code for r in book.rules} | SYSTEM_DENIAL_CODES | runtime.settings.manual_denial_codes
    unknown = [c for c in codes if c not in declared]
    if unknown:
        raise Unprocessable(
            f"reason_codes {unknown} are neither codes of the {book.name} rulebook nor manual denial codes",
            field="reason_codes",
            allowed_manual=sorted(runtime.settings.manual_denial_codes),
        )
    if data.explanation is not None:
        texts = [data.explanation.model_dump(by_alias=True)] * len(codes)
    else:
        missing = [c for c in codes if c not in fired]
        if missing:
            raise Unprocessable(
                f"give an explanation in zh-CN and en: no rule of this claim explains {missing}",
                field="explanation",
            )
        texts = [fired[c]["customer"] for c in codes]
    exposure.release(claim, "denied")
    reasons = [{"code": c, "category": "decision", "customer": t} for c, t in zip(codes, texts, strict=True)]
    return {"reason_codes": codes}, reasons
