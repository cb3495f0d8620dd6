"""Re-run a recorded decision on the exact rulebook text it used."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.engine import RulesEngine
from rules.rulebook import loads
from service.models.claims import DecisionRecord
from service.models.rulebooks import RulebookVersion


def replay(session: Session, rec: DecisionRecord) -> dict[str, Any]:
    """Re-run a recorded adjudication's facts on the exact rulebook version it used."""
    if rec.facts is None or rec.rulebook_sha256 is None:
        raise ValueError(f"record {rec.seq} is not a rules decision")
    stored = session.scalars(
        select(RulebookVersion).where(RulebookVersion.sha256 == rec.rulebook_sha256)
    ).one()
    with RulesEngine(loads(stored.text, source=stored.source)) as engine:
        return summarize(engine.evaluate(rec.facts))


def summarize(adjudication: Any) -> dict[str, Any]:
    """The parts of an adjudication a decision record keeps as its outcome."""
    return {
        "coverage": adjudication.coverage,
        "payable_amount": str(adjudication.payable_amount),
        "coverage_ratio": str(adjudication.coverage_ratio),
        "route": adjudication.route,
        "required_documents": list(adjudication.required_documents),
        "missing_documents": list(adjudication.missing_documents),
        "investigate": adjudication.investigate,
        "review": adjudication.review,
        "rules_fired": list(adjudication.rules_fired),
        "reason_codes": list(adjudication.reason_codes),
    }
