"""Rulebook versions in the service: upload (validated and tested), backtest, approve, activate, roll back."""

from __future__ import annotations

import datetime as dt
import difflib
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.engine import RulesEngine
from rules.rulebook import Rulebook, RulebookError, loads
from rules.testing import Table, run_case
from service.adjudication import build_facts
from service.errors import Conflict, NotFound, Unprocessable
from service.models.claims import Claim
from service.models.investigations import Investigation
from service.models.rulebooks import RulebookActivation, RulebookEvent, RulebookVersion, ShadowResult
from service.rulebooks import schedule
from service.rulebooks.store import RulebookStore
from service.security import Principal

if TYPE_CHECKING:
    import pandas as pd


def event(session: Session, version: RulebookVersion, action: str, who: str, **detail: Any) -> None:
    """Record what happened to a version (the lifecycle's audit trail)."""
    session.add(RulebookEvent(version_id=version.id, action=action, actor=who, detail=detail))


def entries(session: Session, name: str) -> list[schedule.Entry]:
    """Return a product line's activations that were not revoked, in activation order."""
    rows = session.execute(
        select(RulebookActivation.id, RulebookActivation.version_id, RulebookActivation.effective_from)
        .where(RulebookActivation.name == name, RulebookActivation.revoked_at.is_(None))
        .order_by(RulebookActivation.id)
    ).all()
    return [schedule.Entry(*row) for row in rows]


def in_force(session: Session, name: str, day: dt.date | None = None) -> RulebookVersion:
    """Return the version deciding the product line's claims reported on a day (default today)."""
    entry = schedule.in_force(entries(session, name), day or dt.date.today())
    if entry is None:
        raise NotFound(f"no {name} rulebook in force", field="name")
    return session.get(RulebookVersion, entry.version_id)


def took_effect(session: Session, name: str | None = None) -> set[int]:
    """Ids of the versions that were in force at some time (a revoked activation counts until revoked)."""
    query = select(
        RulebookActivation.version_id, RulebookActivation.effective_from, RulebookActivation.revoked_at
    )
    if name is not None:
        query = query.where(RulebookActivation.name == name)
    today = dt.date.today()
    return {
        version
        for version, effective, revoked in session.execute(query)
        if effective <= (revoked.date() if revoked else today)
    }


def summary(
    version: RulebookVersion, plan: list[schedule.Entry], activated: set[int], today: dt.date
) -> dict[str, Any]:
    """Return a version's identity, its status and the report dates it decides."""
    spans = schedule.periods(plan).get(version.id, [])
    return {
        "name": version.name,
        "version": version.version,
        "sha256": version.sha256,
        "status": schedule.status(version.id, version.status, plan, version.id in activated, today),
        "in_force": [
            {"from": None if a is None else a.isoformat(), "to": None if b is None else b.isoformat()}
            for a, b in spans
        ],
        "uploaded_by": version.uploaded_by,
        "approved_by": version.approved_by,
        "shadow": version.shadow,
    }


def get(session: Session, name: str, version: str) -> RulebookVersion:
    """Return one stored version or 404."""
    found = session.scalar(
        select(RulebookVersion).where(RulebookVersion.name == name, RulebookVersion.version == version)
    )
    if found is None:
        raise NotFound(f"no {name} rulebook version {version}", field="version")
    return found


def _run_tests(book: Rulebook, tests_text: str) -> dict[str, Any]:
    try:
        table = Table.model_validate(yaml.safe_load(tests_text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise Unprocessable(f"the test table cannot be read: {exc}", field="tests") from None
    fired: set[str] = set()
    failures = []
    with RulesEngine(book) as engine:
        for case in table.cases:
            result = run_case(engine, table.base, case)
            failures += [{"case": case.name, "failure": f} for f in result.failures]
            if result.adjudication is not None:
                fired.update(result.adjudication.rules_fired)
    unfired = [r.id for r in book.rules if r.id not in fired]
    summary = {"cases": len(table.cases), "failures": failures, "rules_no_case_fires": unfired}
    if failures or unfired:
        raise Unprocessable(
            f"{len(failures)} test failure(s); rules no case fires: {unfired or 'none'}",
            field="tests",
            errors=[{"field": f"tests: {f['case']}", "message": f["failure"]} for f in failures],
            rules_no_case_fires=unfired,
        )
    return summary


def upload(session: Session, known: set[str], text: str, tests: str, who: Principal) -> RulebookVersion:
    """Store a new version as a draft: it must load cleanly and pass its own test table."""
    try:
        book = loads(text, source="upload.yaml")
    except RulebookError as exc:
        errors = [
            {"field": f"text line {p.line} column {p.column}", "message": f"{p.where}: {p.message}"}
            for p in exc.problems
        ]
        raise Unprocessable(
            f"{len(errors)} problem(s) in the rulebook", field="text", errors=errors
        ) from None
    if book.name not in known:
        raise Unprocessable(f"no product line {book.name!r}", field="text")
    if session.scalar(
        select(RulebookVersion.id).where(
            RulebookVersion.name == book.name, RulebookVersion.version == book.version
        )
    ):
        raise Conflict(
            f"{book.name} version {book.version} already exists: versions are immutable", field="version"
        )
    if session.scalar(select(RulebookVersion.id).where(RulebookVersion.sha256 == book.sha256)):
        raise Conflict("this exact rulebook text is already stored", field="text")
    summary = _run_tests(book, tests)
    version = RulebookVersion(
        name=book.name,
        version=book.version,
        sha256=book.sha256,
        text=text,
        source=f"{book.name}.yaml",
        status="draft",
        uploaded_by=who.name,
        tests=summary,
    )
    session.add(version)
    session.flush()
    warnings = [str(w) for w in book.warnings]  # loads, but likely a mistake: shown in its history
    event(
        session, version, "uploaded", who.name, sha256=book.sha256, tests=summary["cases"], warnings=warnings
    )
    return version


def view(session: Session, version: RulebookVersion, with_diff: bool = False) -> dict[str, Any]:
    """Show a version (with its diff against the active one)."""
    events = session.scalars(
        select(RulebookEvent).where(RulebookEvent.version_id == version.id).order_by(RulebookEvent.id)
    )
    today = dt.date.today()
    out = {
        **summary(version, entries(session, version.name), took_effect(session, version.name), today),
        "tests": version.tests,
        "backtest": version.backtest,
        "history": [{"action": e.action, "actor": e.actor, "at": str(e.at), **e.detail} for e in events],
    }
    if with_diff:
        current = in_force(session, version.name)
        out["diff_against_active"] = "".join(
            difflib.unified_diff(
                current.text.splitlines(keepends=True),
                version.text.splitlines(keepends=True),
                fromfile=f"{current.name} {current.version} (active)",
                tofile=f"{version.name} {version.version}",
            )
        )
    return out


def history_facts(session: Session, book: Rulebook) -> pd.DataFrame:
    """Every stored claim of the product line as rule facts, with its investigation outcome."""
    import pandas as pd  # backtests only: a serving worker never loads pandas for intake

    outcomes = dict(session.execute(select(Investigation.claim_id, Investigation.status)).all())
    rows = []
    for claim in session.scalars(select(Claim).where(Claim.product == book.name).order_by(Claim.id)):
        facts, _ = build_facts(session, claim, set(book.facts))
        if claim.risk_band:
            facts["risk_band"] = claim.risk_band
        rows.append(
            {"claim_number": claim.claim_number, **facts, "investigation_outcome": outcomes.get(claim.id)}
        )
    return pd.DataFrame(rows)


def backtest(session: Session, version: RulebookVersion, who: Principal) -> dict[str, Any]:
    """Run the version against the active one on the stored history; keep the report."""
    current = in_force(session, version.name)
    baseline, candidate = (
        loads(current.text, source=current.source),
        loads(version.text, source=version.source),
    )
    claims = history_facts(session, candidate)
    if claims.empty:
        raise Conflict(f"no stored {version.name} claims to backtest on", field="name")
    from rules.backtest import backtest as run_backtest
    from rules.backtest import to_json

    report = json.loads(to_json(run_backtest(baseline, candidate, claims)))
    version.backtest = report
    event(session, version, "backtested", who.name, claims=report["claims"], changed=report["changed"]["any"])
    return report


def approve(session: Session, version: RulebookVersion, who: Principal) -> None:
    """Approve a draft; four eyes: not by the analyst who uploaded it."""
    if version.status != "draft":
        raise Conflict(
            f"only a draft can be approved; this version is {version.status}", state=version.status
        )
    if who.name == version.uploaded_by:
        raise Conflict(f"four eyes: {who.name} uploaded this version and cannot approve it", rule="four_eyes")
    version.status, version.approved_by = "approved", who.name
    event(session, version, "approved", who.name)


def activate(
    session: Session, version: RulebookVersion, who: Principal, effective_from: dt.date | None = None
) -> RulebookVersion:
    """Put an approved version in force for claims reported from a day on.

    By default, from the `effective_from` its text declares, or today if that has passed.
    Returns the version it replaces on that day. Workers pick it up on their next claim.
    """
    today = dt.date.today()
    declared = loads(version.text, source=version.source).spec.effective_from
    day = effective_from or max(declared, today)
    if version.status != "approved":
        raise Conflict(
            f"only an approved version can be activated; this one is {version.status}", state=version.status
        )
    if day < today:
        raise Unprocessable(
            "effective_from must be today or later: decisions already made keep their version",
            field="effective_from",
        )
    plan = entries(session, version.name)
    before = schedule.in_force(plan, day)
    if before is not None and before.version_id == version.id and before.effective_from <= day:
        raise Conflict(f"{version.name} {version.version} is already in force from {day}", state="active")
    replaced = session.get(RulebookVersion, before.version_id) if before else version
    session.add(
        RulebookActivation(
            name=version.name, version_id=version.id, effective_from=day, activated_by=who.name
        )
    )
    version.shadow = False
    RulebookStore.invalidate(session)  # this unit of work now sees the new schedule
    event(session, version, "activated", who.name, replaced=replaced.version, effective_from=day.isoformat())
    return replaced


def rollback(session: Session, name: str, who: Principal) -> RulebookVersion:
    """Revoke the latest activation: the schedule before it holds again. Returns the version now in force."""
    plan = entries(session, name)
    if len(plan) < 2:
        raise Conflict(f"{name} has no earlier activation to return to", state="active")
    last = session.get(RulebookActivation, plan[-1].id)
    last.revoked_at, last.revoked_by = dt.datetime.now(dt.UTC), who.name
    session.flush()
    RulebookStore.invalidate(session)
    now = in_force(session, name)
    revoked = session.get(RulebookVersion, last.version_id)
    event(
        session,
        revoked,
        "rolled_back",
        who.name,
        effective_from=last.effective_from.isoformat(),
        in_force_now=now.version,
    )
    return now


def start_shadow(session: Session, version: RulebookVersion, who: Principal) -> None:
    """Evaluate this version beside the active one on live claims (one shadow per product line)."""
    if in_force(session, version.name).id == version.id:
        raise Conflict("the active version cannot shadow itself", state="active")
    for other in session.scalars(select(RulebookVersion).where(RulebookVersion.name == version.name)):
        other.shadow = other.id == version.id
    RulebookStore.invalidate(session)
    event(session, version, "shadow_started", who.name)


def stop_shadow(session: Session, name: str, who: Principal) -> RulebookVersion:
    """Stop evaluating a product line's shadowed version; its results so far are kept."""
    shadowed = session.scalar(
        select(RulebookVersion).where(RulebookVersion.name == name, RulebookVersion.shadow.is_(True))
    )
    if shadowed is None:
        raise NotFound(f"no {name} version is being shadowed", field="name")
    shadowed.shadow = False
    RulebookStore.invalidate(session)
    event(session, shadowed, "shadow_stopped", who.name)
    return shadowed


def shadow_report(session: Session, version: RulebookVersion) -> dict[str, Any]:
    """Differences so far between the shadowed version and the decisions actually made."""
    query = select(ShadowResult).where(ShadowResult.version_id == version.id).order_by(ShadowResult.id)
    rows = list(session.scalars(query))
    differing = [r for r in rows if r.differs]
    moves: dict[str, int] = {}
    delta = Decimal("0.00")
    for row in differing:
        for key in ("coverage", "route"):
            before, after = row.active[key], row.shadow.get(key)
            if before != after:
                moves[f"{key}: {before}->{after}"] = moves.get(f"{key}: {before}->{after}", 0) + 1
        if "payable_amount" in row.shadow:
            delta += Decimal(row.shadow["payable_amount"]) - Decimal(row.active["payable_amount"])
    return {
        "name": version.name,
        "version": version.version,
        "shadow": version.shadow,
        "evaluated": len(rows),
        "differing": len(differing),
        "transitions": moves,
        "payable_delta": str(delta),
        "examples": [
            {"claim": r.claim_number, "active": r.active, "shadow": r.shadow} for r in differing[:25]
        ],
    }


def listing(session: Session) -> list[dict[str, Any]]:
    """Every stored version with its status and the report dates it decides."""
    rows = list(session.scalars(select(RulebookVersion).order_by(RulebookVersion.name, RulebookVersion.id)))
    today = dt.date.today()
    plans = {name: entries(session, name) for name in {v.name for v in rows}}
    activated = took_effect(session)
    return [summary(v, plans[v.name], activated, today) for v in rows]


def names(session: Session) -> set[str]:
    """The rulebooks stored (one per product line)."""
    return set(session.scalars(select(RulebookVersion.name).distinct()))
