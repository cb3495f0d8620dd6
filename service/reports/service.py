"""SLA and KPI reports, computed from claims, their clocks, records, payments and investigations."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service import lifecycle
from service.claims import views
from service.models.claims import Claim, DecisionRecord
from service.models.investigations import Investigation
from service.models.payments import Payment
from service.runtime import Runtime
from service.sla import STAGES


def _claims(session: Session, *conditions: Any) -> list[Claim]:
    query = select(Claim).options(selectinload(Claim.events), selectinload(Claim.reviews)).where(*conditions)
    return list(session.scalars(query.order_by(Claim.id)))


def tally(board: dict[str, dict[str, Counter]], state: dict[str, Any], clock: dict[str, Any]) -> None:
    """Count one open claim's stage clock on the board, if it is running or paused."""
    if clock["state"] not in ("running", "paused"):
        return
    cell = board[state["tier"]][clock["stage"]]
    cell["open"] += 1
    cell[clock["state"]] += 1
    cell["breached"] += clock["breached"]
    cell["due_soon"] += state["due_soon"] and clock["state"] == "running" and not clock["breached"]


def open_board(session: Session, runtime: Runtime, now: dt.datetime) -> dict[str, dict[str, Counter]]:
    """The open claims' running and paused stage clocks by tier and stage (open, breached, due soon)."""
    board: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for claim in _claims(session, Claim.status.in_(lifecycle.LIVE)):
        state = views.clocks(session, runtime, claim, now)
        for clock in state["stages"]:
            tally(board, state, clock)
    return board


def sla_report(session: Session, runtime: Runtime, now: dt.datetime | None = None) -> dict[str, Any]:
    """Open claims against their due dates by tier and stage; breaches; average days per stage."""
    now = now or dt.datetime.now(dt.UTC)
    board: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    breaches, used = [], defaultdict(list)
    for claim in _claims(session):
        state = views.clocks(session, runtime, claim, now)
        live = claim.status in lifecycle.LIVE
        for clock in state["stages"]:
            if clock["state"] == "done":
                used[clock["stage"]].append(clock["working_days_used"])
            if not live:
                continue
            if clock["breached"]:  # late now, or finished late while the claim is still open
                breaches.append(
                    {
                        "claim_number": claim.claim_number,
                        "tier": state["tier"],
                        "stage": clock["stage"],
                        "state": clock["state"],
                        "due": clock["due"],
                        "working_days_used": clock["working_days_used"],
                        "allowed_working_days": clock["allowed_working_days"],
                        "status": claim.status,
                    }
                )
            tally(board, state, clock)
    return {
        "as_of": now.isoformat(timespec="seconds"),
        "open_by_tier_and_stage": {
            tier: {stage: dict(board[tier][stage]) for stage in STAGES if stage in board[tier]}
            for tier in sorted(board)
        },
        "breaches": sorted(breaches, key=lambda b: (b["due"] or "", b["claim_number"])),
        "average_working_days_per_stage": {
            stage: round(statistics.fmean(used[stage]), 2) if used[stage] else None for stage in STAGES
        },
    }


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def kpis(session: Session, runtime: Runtime, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Timeliness, outcome mix, cycle times, investigations, payments and rule firings in a period."""
    claims = _claims(session, Claim.report_date >= start, Claim.report_date <= end)
    ids = [c.id for c in claims]
    calendar = runtime.settings.calendar
    on_time: dict[str, Counter] = defaultdict(Counter)
    cycle: dict[str, list[int]] = defaultdict(list)
    mix = Counter()
    for claim in claims:
        state = views.clocks(session, runtime, claim)
        stages = {c["stage"]: c for c in state["stages"]}
        tier = state["tier"]
        if claim.status in ("approved", "denied", "paid", "closed") and stages["decision"]["state"] == "done":
            on_time[tier]["decided"] += 1
            on_time[tier]["decided_on_time"] += not (
                stages["review"]["breached"] or stages["decision"]["breached"]
            )
        if stages["payment"]["state"] == "done":
            on_time[tier]["paid"] += 1
            on_time[tier]["paid_on_time"] += not stages["payment"]["breached"]
        finished = stages["payment"]["completed"] or (
            stages["decision"]["completed"] if claim.approved_amount is None else None
        )
        if finished:
            cycle[tier].append(calendar.count(claim.report_date, dt.date.fromisoformat(finished)))
        if claim.approved_amount is not None:
            mix[
                "partially_approved"
                if claim.coverage == "partially_covered"
                or claim.approved_amount < (claim.payable_amount or 0)
                else "approved"
            ] += 1
        elif any(e.new == "denied" for e in claim.events):
            mix["denied"] += 1
    investigations = (
        list(session.scalars(select(Investigation).where(Investigation.claim_id.in_(ids)))) if ids else []
    )
    payments = list(session.scalars(select(Payment).where(Payment.claim_id.in_(ids)))) if ids else []
    firing = Counter()
    latest: dict[int, DecisionRecord] = {}
    if ids:
        for rec in session.scalars(
            select(DecisionRecord).where(
                DecisionRecord.claim_id.in_(ids), DecisionRecord.kind == "adjudication"
            )
        ):
            if rec.claim_id not in latest or rec.seq > latest[rec.claim_id].seq:
                latest[rec.claim_id] = rec
        for rec in latest.values():
            firing.update(rec.outcome.get("rules_fired", []))
    confirmed = sum(i.status == "confirmed_fraud" for i in investigations)
    by_method: dict[str, dict[str, Any]] = defaultdict(lambda: {"count": 0, "amount": Decimal("0.00")})
    for payment in payments:
        by_method[payment.method]["count"] += 1
        by_method[payment.method]["amount"] += payment.amount
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "claims": len(claims),
        "timeliness_by_tier": {
            tier: {
                **dict(c),
                "decided_on_time_share": round(c["decided_on_time"] / c["decided"], 4)
                if c["decided"]
                else None,
                "paid_on_time_share": round(c["paid_on_time"] / c["paid"], 4) if c["paid"] else None,
            }
            for tier, c in sorted(on_time.items())
        },
        "outcome_mix": dict(mix),
        "cycle_time_working_days_by_tier": {
            tier: {
                "n": len(v),
                "average": round(statistics.fmean(v), 2),
                "p90": _percentile(v, 0.9),
                "values": v,
            }
            for tier, v in sorted(cycle.items())
        },
        "investigations": {
            "referred": len(investigations),
            "referral_rate": round(len(investigations) / len(claims), 4) if claims else None,
            "confirmed_fraud": confirmed,
            "cleared": sum(i.status == "cleared" for i in investigations),
            "hit_rate": round(confirmed / len(investigations), 4) if investigations else None,
        },
        "payments_by_method": {
            m: {"count": v["count"], "amount": str(v["amount"])} for m, v in sorted(by_method.items())
        },
        "rule_firing_counts": dict(firing.most_common()),
    }
