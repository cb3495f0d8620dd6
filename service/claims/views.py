"""How a claim is shown to callers: state, route, risk, documents, reviews, payments, reasons."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.explain import explain as why_not
from rules.rulebook import loads
from service import sla
from service.adjudication import decided_by, due
from service.database import utc
from service.errors import NotFound
from service.lifecycle import allowed_actions
from service.models.claims import Claim, DecisionRecord
from service.models.rulebooks import RulebookVersion
from service.runtime import Runtime


def clocks(
    session: Session, runtime: Runtime, claim: Claim, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Return the claim's SLA clocks for its current route (tier)."""
    now = now or dt.datetime.now(dt.UTC)
    tier, stage_clocks = due.clocks(session, runtime, claim, now)
    calendar = runtime.settings.calendar
    reroutes = [
        {"from": e.old, "to": e.new, "why": e.why, "at": utc(e.at).isoformat()}
        for e in claim.events
        if e.kind == "route" and e.old is not None
    ]
    return {
        "tier": tier,
        "calendar": calendar.country,
        **sla.summary(stage_clocks, calendar, now.date()),
        "stages": [c.as_dict() for c in stage_clocks],
        "reroutes": reroutes,
    }


def latest_adjudication(session: Session, claim: Claim) -> DecisionRecord | None:
    """Return the claim's most recent rules decision."""
    return session.scalars(
        select(DecisionRecord)
        .where(DecisionRecord.claim_id == claim.id, DecisionRecord.kind == "adjudication")
        .order_by(DecisionRecord.seq.desc())
        .limit(1)
    ).first()


def records(session: Session, claim: Claim) -> list[DecisionRecord]:
    """Return the claim's decision records, oldest first."""
    return list(
        session.scalars(
            select(DecisionRecord).where(DecisionRecord.claim_id == claim.id).order_by(DecisionRecord.seq)
        )
    )


def explanation(session: Session, claim: Claim) -> dict[str, Any]:
    """Why not: for the claim's latest decision, each rule, whether it fired, and what failed."""
    record = latest_adjudication(session, claim)
    if record is None:
        raise NotFound(f"claim {claim.claim_number} has no adjudication yet", field="claim_number")
    stored = session.scalars(
        select(RulebookVersion).where(RulebookVersion.sha256 == record.rulebook_sha256)
    ).one()
    rules = why_not(loads(stored.text, source=stored.source), record.facts)
    return {
        "claim_number": claim.claim_number,
        "record_seq": record.seq,
        "rulebook": f"{record.rulebook_name}@{record.rulebook_version}",
        "facts": record.facts,
        "fired": [r for r in rules if r["fired"]],
        "not_fired": [r for r in rules if not r["fired"]],
    }


def documents(session: Session, runtime: Runtime, claim: Claim) -> dict[str, Any]:
    """Return the checklist: required (with labels), received and still missing."""
    book = decided_by(session, runtime, claim)
    labels = {d.spec.code: d.spec.label.as_dict() for d in book.documents}
    received = [d for d in claim.documents if d.status != "rejected"]
    have = {d.doc_type for d in received}
    return {
        "required": [{"code": c, "label": labels.get(c, {})} for c in claim.required_documents],
        "missing": [
            {"code": c, "label": labels.get(c, {})} for c in claim.required_documents if c not in have
        ],
        "received": [
            {
                "id": d.id,
                "doc_type": d.doc_type,
                "file_name": d.file_name,
                "sha256": d.sha256,
                "status": d.status,
                "reason": d.reason,
                "stored": d.stored_path is not None,
            }
            for d in claim.documents
        ],
    }


def summary(claim: Claim, session: Session | None = None, runtime: Runtime | None = None) -> dict[str, Any]:
    """Return the fields shown in lists (with the SLA state when a session and runtime are given)."""
    extra = {}
    if session is not None and runtime is not None:
        state = clocks(session, runtime, claim)
        extra = {
            "sla_breached": state["breached"],
            "sla_due_soon": state["due_soon"],
            "sla_next_due": state["next_due"],
            "sla_stages": state["stages"],  # each stage's due date, days used and left, breached
        }
    return {
        "claim_number": claim.claim_number,
        "policy_number": claim.policy.policy_number,
        "product": claim.product,
        "status": claim.status,
        "on_hold": claim.on_hold,
        "peril": claim.peril,
        "report_date": claim.report_date.isoformat(),
        "claimed_amount": str(claim.claimed_amount),
        "route": claim.route,
        "coverage": claim.coverage,
        "payable_amount": None if claim.payable_amount is None else str(claim.payable_amount),
        "risk_band": claim.risk_band,
        "team": claim.team,
        "owner": claim.owner,
        **extra,
    }


def actions(claim: Claim) -> list[str]:
    """The actions a caller may take now: those of its state, less those its holds rule out."""
    held = claim.on_hold or not claim.payee_verified
    reviewed = any(r.stage == "preliminary" for r in claim.reviews)
    nothing_payable = claim.coverage == "not_covered" or (claim.payable_amount or 0) <= 0
    ruled_out = {
        "pay": held,
        "verify_payee": claim.payee_verified,
        "approve": not reviewed or claim.on_hold,
        "deny": not reviewed and not nothing_payable,
    }
    return [a for a in allowed_actions(claim.status) if not ruled_out.get(a, False)]


def detail(
    session: Session, runtime: Runtime, claim: Claim, adjudication: DecisionRecord | None = None
) -> dict[str, Any]:
    """Return everything about a claim a caller may need to act on it (its latest adjudication
    record may be passed in by the writer that just made it)."""
    last = adjudication or latest_adjudication(session, claim)
    investigation = claim.investigations[-1] if claim.investigations else None
    risk = (last.outcome.get("risk") if last else None) or {
        "score": claim.risk_score,
        "band": claim.risk_band,
    }
    return {
        **summary(claim),
        "allowed_actions": actions(claim),
        "channel": claim.channel,
        "incident_at": claim.incident_at.isoformat(),
        "description": claim.description,
        "approved_amount": None if claim.approved_amount is None else str(claim.approved_amount),
        "paid_amount": str(claim.paid_amount),
        "reserve": str(claim.reserve),
        "reserve_history": [
            {"from": e.old, "to": e.new, "why": e.why, "at": utc(e.at).isoformat()}
            for e in claim.events
            if e.kind == "reserve"
        ],
        "payee_account": claim.payee_account,
        "payee_verified": claim.payee_verified,
        "contact_email": claim.contact_email,
        "contact_phone": claim.contact_phone,
        "language": claim.language or "zh-CN",
        "external_reference": claim.external_reference,
        "rulebook": claim.rulebook,
        "adjudication": None
        if last is None
        else {
            **{k: last.outcome[k] for k in ("coverage", "payable_amount", "route", "investigate", "review")},
            "reasons": last.reasons,
            "record_seq": last.seq,
        },
        "risk": {
            **risk,
            "model": f"{last.model_name}@{last.model_version}" if last and last.model_name else None,
        },
        "documents": documents(session, runtime, claim),
        "reviews": [
            {
                "stage": r.stage,
                "reviewer": r.reviewer,
                "recommendation": r.recommendation,
                "amount": None if r.amount is None else str(r.amount),
                "notes": r.notes,
            }
            for r in claim.reviews
        ],
        "payments": [
            {
                "reference": p.reference,
                "method": p.method,
                "amount": str(p.amount),
                "payee": p.payee,
                "status": p.status,
            }
            for p in claim.payments
        ],
        "sla": clocks(session, runtime, claim),
        "investigation": None
        if investigation is None
        else {
            "id": investigation.id,
            "status": investigation.status,
            "reason": investigation.reason,
        },
    }
