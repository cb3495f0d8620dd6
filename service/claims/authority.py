"""Who may approve how much: authority limits, overrides above the payable amount, four eyes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from service.config import Settings
from service.errors import Conflict, Forbidden, Unprocessable
from service.models.claims import Claim
from service.security import Principal

SENIOR = ("senior_reviewer", "admin")


def limit_of(settings: Settings, who: Principal) -> Decimal:
    """Return the most this person may approve: their own limit, else their role's."""
    if who.name in settings.authority_limits:
        return settings.authority_limits[who.name]
    if who.role == "specialist":
        return settings.specialist_authority_limit
    if who.role in SENIOR:  # an admin key is no way around authority: it has a senior's
        return settings.senior_authority_limit
    return Decimal("0.00")


def who_may_approve(settings: Settings, amount: Decimal) -> str:
    """Name who may approve an amount, for the refusal."""
    if amount <= settings.specialist_authority_limit:
        limit = settings.specialist_authority_limit
        return f"a specialist with the role's authority ({limit}) or a senior reviewer"
    if amount <= settings.dual_approval_above:
        return "a senior reviewer"
    return "two different senior reviewers (a senior review, then the decision)"


def preliminary_reviewer(claim: Claim) -> str | None:
    """Return who made the claim's latest preliminary review."""
    return next((r.reviewer for r in reversed(claim.reviews) if r.stage == "preliminary"), None)


def check_approval(
    settings: Settings, claim: Claim, amount: Decimal, override_code: str | None, who: Principal
) -> dict[str, Any]:
    """Refuse an approval outside the approver's authority; return who stands behind it.

    Applies to the amount actually approved, whatever path led to it: above the payable amount
    it needs a declared override reason and a senior reviewer other than the preliminary
    reviewer; above the person's limit it is refused naming who may approve it; above the
    dual-approval amount a second senior reviewer must have made the senior review.
    """
    payable = claim.payable_amount or Decimal("0.00")
    first = preliminary_reviewer(claim)
    seniors = [r.reviewer for r in claim.reviews if r.stage == "senior"]
    if amount > payable:
        if not override_code:
            raise Unprocessable(
                f"amount {amount} exceeds the payable amount {payable}: give override_reason_code",
                field="amount",
            )
        if override_code not in settings.override_reason_codes:
            raise Unprocessable(
                f"override_reason_code {override_code} is not a declared override reason",
                field="override_reason_code",
                allowed=sorted(settings.override_reason_codes),
            )
        if who.role not in SENIOR:
            raise Forbidden(
                f"approving {amount} above the payable amount {payable} is confirmed by a senior reviewer",
                rule="override_confirmation",
                amount=str(amount),
                payable_amount=str(payable),
                may_approve="a senior reviewer other than the preliminary reviewer",
            )
    if who.name == first and (amount > payable or claim.status == "senior_review"):
        raise Conflict(
            f"four eyes: {who.name} made the preliminary review and cannot also confirm this approval",
            rule="four_eyes",
            amount=str(amount),
            may_approve="a senior reviewer other than the preliminary reviewer",
        )
    limit = limit_of(settings, who)
    # Above the dual-approval amount no one person's authority suffices: a senior reviewer with
    # the full senior limit decides after another senior reviewer's review (two together).
    dual = amount > settings.dual_approval_above
    if (dual and (who.role not in SENIOR or limit < settings.dual_approval_above)) or (
        not dual and amount > limit
    ):
        raise Forbidden(
            f"approving {amount} is above {who.name}'s authority of {limit}: "
            f"{who_may_approve(settings, amount)} may approve it",
            rule="authority_limit",
            amount=str(amount),
            authority_limit=str(limit),
            may_approve=who_may_approve(settings, amount),
        )
    if dual and not any(s not in (who.name, first) for s in seniors):
        remedy = (
            f"a senior reviewer other than {who.name}, who made the senior review, decides"
            if who.name in seniors
            else f"a senior review by someone other than {who.name} first"
        )
        raise Conflict(
            f"approving {amount} (above {settings.dual_approval_above}) needs two different senior "
            f"reviewers: {remedy}",
            rule="dual_approval",
            missing="senior_review",
            amount=str(amount),
            authority_limit=str(settings.dual_approval_above),
            may_approve=who_may_approve(settings, amount),
        )
    return {
        "approved_by": who.name,
        "preliminary_reviewer": first,
        "senior_reviewers": seniors,
        "authority_limit": str(limit),
    }
