"""The one flow that scores a claim's facts, runs the rules that decide it, settles the claim and
records the decision (with its shadow and any investigation it opens)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from risk_models.features import FeatureError
from risk_models.scorer import RiskScore
from rules.engine import RulesEngine
from rules.facts import InvalidFacts
from rules.outcome import Adjudication
from rules.rulebook import Rulebook
from service import audit, exposure, observability
from service.adjudication.assign import assign
from service.adjudication.facts import build_facts
from service.adjudication.replay import summarize
from service.errors import Unprocessable
from service.models.claims import Claim, ClaimEvent, DecisionRecord
from service.models.investigations import Investigation
from service.models.rulebooks import ShadowResult
from service.runtime import Runtime


@dataclass(frozen=True)
class Inputs:
    """What a claim's assessment is made from: the engine that decides it and the facts it reads.

    Two equal inputs give the same assessment (scoring and rules read nothing else), so an
    assessment made outside the write transaction holds if the inputs read inside it are equal.
    """

    engine: RulesEngine
    facts: dict[str, Any]
    risk_input: dict[str, Any]


@dataclass(frozen=True)
class Assessment:
    """What the rulebook and the model made of a claim's facts, before anything is stored."""

    book: Rulebook
    facts: dict[str, Any]
    result: Adjudication
    score: RiskScore | None
    inputs: Inputs


def deciding_engine(session: Session, runtime: Runtime, claim: Claim) -> RulesEngine:
    """The engine that adjudicates a claim: a version a re-adjudication named, else the one in force
    at the claim's report date (effective dating: a late-reported claim keeps the rules of its day).
    """
    if claim.rulebook_named:
        engine = runtime.store.engine_named(session, claim.product, claim.rulebook_named)
        if engine is not None:
            return engine
    return runtime.store.engine_for(session, claim.product, on=claim.report_date)


def decided_by(session: Session, runtime: Runtime, claim: Claim) -> Rulebook:
    """The rulebook behind the claim's current decision (its labels and SLA days apply to it)."""
    if claim.rulebook:
        name, _, version = claim.rulebook.partition("@")
        engine = runtime.store.engine_named(session, name, version)
        if engine is not None:
            return engine.rulebook
    return deciding_engine(session, runtime, claim).rulebook


def gather(session: Session, runtime: Runtime, claim: Claim) -> Inputs:
    """Read what the claim's assessment is made from (its history, its policy, the engine)."""
    engine = deciding_engine(session, runtime, claim)
    facts, risk_input = build_facts(session, claim, set(engine.rulebook.facts))
    return Inputs(engine, facts, risk_input)


def judge(runtime: Runtime, inputs: Inputs) -> Assessment:
    """Score the inputs and run the rulebook on them; reads and changes nothing stored."""
    book = inputs.engine.rulebook
    facts = dict(inputs.facts)
    score = None
    if runtime.scorer is not None:
        try:
            score = runtime.scorer.score(inputs.risk_input)
        except FeatureError as exc:
            raise Unprocessable(
                f"cannot score the claim: {exc}",
                errors=[{"field": exc.field, "message": exc.message}],
            ) from None
        facts["risk_band"] = score.band
    try:
        result = inputs.engine.evaluate(facts)
    except InvalidFacts as exc:
        errors = [{"field": f"facts.{p.field}", "message": p.message} for p in exc.problems]
        raise Unprocessable(
            f"the claim's facts do not fit the {book.name} rulebook: {exc}", errors=errors
        ) from None
    return Assessment(book, facts, result, score, inputs)


def assess(session: Session, runtime: Runtime, claim: Claim) -> Assessment:
    """Build the claim's facts, score them and run the rulebook that decides it; change nothing."""
    return judge(runtime, gather(session, runtime, claim))


DOCUMENT_FACTS = frozenset({"documents_received", "documents_complete", "missing_documents_count"})


def documents_to_ask(book: Rulebook, result: Adjudication) -> list[str]:
    """The documents to ask the customer for: none when the rules already say nothing is payable.

    A claim that is not covered, or pays nothing, can be denied at once; only if a rule that
    fired reads the documents could they still change the outcome, and then the checklist stays.
    """
    nothing_payable = result.coverage == "not_covered" or result.payable_amount <= 0
    if nothing_payable and not any(DOCUMENT_FACTS & set(book.rule(i).reads) for i in result.rules_fired):
        return []
    return list(result.required_documents)


def settle(claim: Claim, assessment: Assessment) -> None:
    """Carry an assessment onto the claim: route, coverage, amount, documents, risk."""
    result, score, book = assessment.result, assessment.score, assessment.book
    if result.route != claim.route:
        # Why the route is what it is, kept with the route change (SLA deadlines follow the route).
        why = ", ".join(
            r.code
            for r in result.reasons
            if "route" in r.effect or r.code in ("DEFAULT_ROUTE", "NO_COVERAGE_DECISION")
        )
        claim.events.append(
            ClaimEvent(kind="route", old=claim.route, new=result.route, why=why, at=dt.datetime.now(dt.UTC))
        )
        claim.route = result.route
    claim.coverage = result.coverage
    claim.payable_amount = result.payable_amount
    exposure.set_reserve(claim, result.payable_amount, f"adjudicated: {result.coverage}")
    claim.required_documents = documents_to_ask(book, result)
    claim.rulebook = f"{book.name}@{book.version}"
    if score is not None:
        claim.risk_score, claim.risk_band = score.score, score.band


def record_assessment(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    assessment: Assessment,
    *,
    request_id: str | None,
    named: dict[str, Any] | None = None,
) -> DecisionRecord:
    """Append the adjudication record (returned); open an investigation if referred; feed a shadow."""
    result, score, book = assessment.result, assessment.score, assessment.book
    observability.record_adjudication(result.route, result.coverage, score.band if score else None)
    outcome = summarize(result)
    if named is not None:
        outcome["rulebook_named"] = named  # who chose this version instead of the one in force, and why
    if score is not None:
        outcome["risk"] = {
            "score": score.score,
            "band": score.band,
            "factors": list(score.factors),
        }
    entry = audit.record(
        session,
        claim,
        kind="adjudication",
        actor_type="rules",
        actor=f"rules:{book.name}@{book.version}",
        outcome=outcome,
        amount=result.payable_amount,
        reasons=list(result.reasons),
        facts=assessment.facts,
        rulebook=(book.name, book.version, book.sha256),
        model=(score.model_name, score.model_version) if score else None,
        request_id=request_id,
    )
    if result.investigate:
        referred = [r.code for r in result.reasons if r.effect.get("investigate")]
        open_investigation(session, claim, score, request_id, referred)
    shadow(session, runtime, claim, assessment.facts, result)
    return entry


def adjudicate(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    *,
    request_id: str | None,
    named: dict[str, Any] | None = None,
) -> tuple[Adjudication, RiskScore | None]:
    """Score the claim, run its rulebook, update it and append the decision record."""
    exposure.lock_policy(session, claim.policy_id)  # the reserve follows the payable amount
    assessment = assess(session, runtime, claim)
    before = (claim.route, claim.risk_band)
    settle(claim, assessment)
    if (claim.route, claim.risk_band) != before:
        assign(session, runtime, claim)  # a re-routed claim goes where the policy now sends it
    record_assessment(session, runtime, claim, assessment, request_id=request_id, named=named)
    return assessment.result, assessment.score


def _brief(result: Adjudication) -> dict[str, Any]:
    return {
        "coverage": result.coverage,
        "route": result.route,
        "payable_amount": str(result.payable_amount),
        "investigate": result.investigate,
        "reason_codes": list(result.reason_codes),
    }


def shadow(
    session: Session, runtime: Runtime, claim: Claim, facts: dict[str, Any], result: Adjudication
) -> None:
    """Evaluate a shadowed candidate on the same facts; keep what it would have decided, decide nothing."""
    # A new claim's records wait in the session until the claim row is written: nothing here may
    # flush them first (their claim would not exist yet).
    with session.no_autoflush:
        shadowing = runtime.store.shadow_for(session, claim.product)
    if shadowing is None:
        return
    version_id, engine = shadowing
    try:
        other = _brief(engine.evaluate(facts))
    except InvalidFacts as exc:
        other = {"error": str(exc)}
    mine = _brief(result)
    differs = any(
        other.get(k) != mine[k]
        for k in ("coverage", "route", "payable_amount", "investigate", "reason_codes")
    )
    session.add(
        ShadowResult(
            version_id=version_id, claim_number=claim.claim_number, active=mine, shadow=other, differs=differs
        )
    )


def open_investigation(
    session: Session,
    claim: Claim,
    score: RiskScore | None,
    request_id: str | None,
    referred_by: list[str] | None = None,
) -> None:
    """Open an investigation (a hold on the claim) unless one is already open; its reason names
    the rules that referred the claim and the fraud-risk score."""
    if any(i.status == "open" for i in claim.investigations):
        return
    parts = [f"referred by {', '.join(referred_by)}"] if referred_by else []
    if score is not None:
        parts.append(f"fraud-risk {score.band} ({score.score:.3f})")
    reason = "; ".join(parts) or "referred by the rules"
    claim.investigations.append(
        Investigation(
            claim_id=claim.id, status="open", reason=reason, risk_score=score.score if score else None
        )
    )
    claim.on_hold = True
    audit.record(
        session,
        claim,
        kind="investigation_opened",
        actor_type="rules",
        actor="rules",
        outcome={"on_hold": True, "reason": reason},
        request_id=request_id,
    )
