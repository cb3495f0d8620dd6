"""What the claim page shows and which of its forms a person may use: shared by the pages and
the forms (a refused form shows the claim page again, with the problem)."""

from __future__ import annotations

from typing import Any

from service.claims import queue, review, views
from service.complaints import service as complaints
from service.errors import NotFound
from service.outbox import service as outbox
from service.runtime import Runtime
from service.security import Principal, may
from service.web.i18n import pick

DENIAL_EFFECT = "not_covered"


def nav(session: Any, runtime: Runtime, who: Principal) -> dict[str, Any]:
    """The side bar's queues and their counts."""
    teams = queue.counts(session, runtime, who)
    return {"teams": teams, "breached_total": sum(t["breached"] for t in teams)}


def claim_context(session: Any, runtime: Runtime, claim: Any, who: Principal) -> dict[str, Any]:
    """Everything the claim page shows, and which of its forms the person may use."""
    shown = views.detail(session, runtime, claim)
    try:
        why = views.explanation(session, claim)
    except NotFound:
        why = None
    reasons = (shown["adjudication"] or {}).get("reasons", [])
    denial_codes = [r["code"] for r in reasons if r.get("effect", {}).get("coverage") == DENIAL_EFFECT]
    team = runtime.assignment.policy.teams.get(claim.team) if claim.team else None
    payable = claim.payable_amount
    return {
        "claim": shown,
        "messages": outbox.messages_of(session, claim),
        "complaints": complaints.listing(session, None, claim.claim_number, 20, 0),
        # Pre-filled only with an amount a review or an approval can carry (more than nothing).
        "prefill_amount": str(payable) if payable is not None and payable > 0 else "",
        "held_by_other": claim.owner is not None and claim.owner != who.name,
        "why": why,
        "records": views.records(session, claim),
        "can": can(claim, shown["allowed_actions"], who, runtime),
        "denial_codes": denial_codes,
        "manual_codes": sorted(runtime.settings.manual_denial_codes),
        "override_codes": sorted(runtime.settings.override_reason_codes),
        # Shown as placeholders: sent only if typed, so by default the domain keeps each
        # code's own text (and asks for one where no rule explains a code).
        "explanation": {
            lang: " ".join(pick(r["customer"], lang) for r in reasons if r["code"] in denial_codes)
            for lang in ("zh-CN", "en")
        },
        "team_choices": runtime.assignment.policy.teams,
        **nav(session, runtime, who),
        "members": list(team.members) if team else [],
        "top_factor": max((abs(f["contribution"]) for f in shown["risk"].get("factors") or []), default=0),
    }


def can(claim: Any, allowed: list[str], who: Principal, runtime: Runtime) -> set[str]:
    """The claim's forms this person may use now: its state's actions that their role may take.

    The domain services check again on submit (authority, four eyes, holds); this only hides
    the buttons whose request would be refused for the role or the state.
    """
    admin = who.role == "admin"
    shown: set[str] = set()
    for action in allowed:
        if action in ("preliminary_review", "senior_review"):
            stage_role = "specialist" if action == "preliminary_review" else "senior_reviewer"
            done = action.removesuffix("_review") in {r.stage for r in claim.reviews}
            if not done and (admin or who.role == stage_role):
                shown.add(action)
        elif action in ("approve", "deny"):
            # The decision comes after the reviews its state needs (a denial the rules already
            # explain may come at once); in a senior review only a senior reviewer decides.
            stages = {r.stage for r in claim.reviews}
            senior_only = claim.status == "senior_review"
            ready = ("senior" in stages) if senior_only else ("preliminary" in stages)
            ready = ready or (action == "deny" and review.nothing_payable(claim) and not senior_only)
            if (
                ready
                and may(who.role, "decide")
                and (admin or not senior_only or who.role == "senior_reviewer")
            ):
                shown.add(action)
        elif action in ("check_document", "verify_payee", "adjudicate") and may(
            who.role, {"adjudicate": "readjudicate"}.get(action, action)
        ):
            shown.add(action)
    if claim.status in queue.LIVE and may(who.role, "assignment"):
        members = runtime.assignment.members(claim.team) if claim.team else ()
        if claim.owner is None and (admin or not claim.team or who.name in members):
            shown.add("take")
        if claim.owner == who.name:
            shown.add("release")
        if admin or who.role in queue.REASSIGNERS:
            shown.add("reassign")
    if claim.investigations and claim.investigations[-1].status == "open" and may(who.role, "conclude"):
        shown.add("conclude")
    return shown
