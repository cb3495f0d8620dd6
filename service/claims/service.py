"""Claim flows: first notice of loss, documents, re-adjudication, reviews, decision, withdrawal."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from decimal import Decimal

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from service import audit, exposure, lifecycle
from service.adjudication import (
    Assessment,
    adjudicate,
    assess,
    decided_by,
    due,
    gather,
    record_assessment,
    settle,
)
from service.adjudication.assign import assign
from service.adjudication.facts import SUPPLIED
from service.claims.schemas import ClaimIn, DocumentCheck, DocumentIn, ReadjudicateIn
from service.database import insert_built, last_ids
from service.errors import Conflict, Forbidden, NotFound, Unprocessable
from service.models.claims import Claim, DecisionRecord, Document
from service.models.policies import Policy
from service.models.rulebooks import RulebookVersion
from service.observability import bind_claim
from service.outbox import service as outbox
from service.runtime import Runtime
from service.security import Principal


def _check_claim_facts(session: Session, runtime: Runtime, product: str, data: ClaimIn) -> None:
    """Refuse a peril or product fact the product's rulebook does not know, naming the field."""
    book = runtime.store.rulebook_for(session, product, on=data.report_date or dt.date.today())
    errors = []
    perils = book.facts["peril"].allowed or ()
    if data.peril not in perils:
        errors.append({"field": "peril", "message": f"must be one of {list(perils)} for {product}"})
    for name in data.facts:
        if name not in book.facts or name in SUPPLIED:
            errors.append({"field": f"facts.{name}", "message": f"not a {product} fact a claim may set"})
    if errors:
        raise Unprocessable("; ".join(f"{e['field']}: {e['message']}" for e in errors), errors=errors)


# The next claim id: PostgreSQL hands out sequence values to concurrent writers; SQLite's comes
# from the write lock every writing transaction holds (`last_ids`).
NEXT_CLAIM_ID = text("SELECT nextval(pg_get_serial_sequence('claims', 'id'))")


# The policy a report names. A draft only reads it; the write transaction locks it: the new
# claim's reserve comes out of the policy's exposure. (On PostgreSQL a lock in the draft would
# also write the row's lock mark, and hold up every other report on the policy while it drafts.)
POLICY_READ = select(Policy).where(Policy.policy_number == bindparam("number"))
POLICY = POLICY_READ.with_for_update()


def _new_claim_id(session: Session) -> int:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return last_ids(connection, [Claim.__table__])["claims"] + 1
    return connection.execute(NEXT_CLAIM_ID).scalar_one()


def fingerprint(data: ClaimIn) -> str:
    """Identify what was reported, so a reused key or reference with another report is refused."""
    return audit.sha256(audit.canonical(data.model_dump(mode="json")))


def reported_before(session: Session, data: ClaimIn, who: Principal, key: str | None) -> Claim | None:
    """Return the claim an earlier report by this caller made under this key or reference.

    The same report again is a retry and gets its claim back; anything else under the same key
    or reference is refused (409), naming which.
    """
    asked = [
        ("Idempotency-Key", Claim.idempotency_key, key),
        ("external_reference", Claim.external_reference, data.external_reference),
    ]
    for field, column, value in asked:
        if value is None:
            continue
        claim = session.scalar(select(Claim).where(Claim.reported_by == who.name, column == value))
        if claim is None:
            continue
        if claim.request_hash != fingerprint(data):
            raise Conflict(
                f"{field} {value} was already used for another report: claim {claim.claim_number}",
                field=field,
                claim_number=claim.claim_number,
            )
        return claim
    return None


def draft(
    session: Session, runtime: Runtime, data: ClaimIn, who: Principal, key: str | None
) -> tuple[Claim, Assessment]:
    """Build the claim in memory, adjudicated, with its documents asked, its queue and SLA dates.

    Reads only: run in a read-only unit of work, it leaves the write transaction what must be
    atomic (see `report`).
    """
    # In a write transaction `report` has locked it already.
    policy = session.scalar(POLICY_READ, {"number": data.policy_number})
    if policy is None:
        raise NotFound(f"no policy {data.policy_number}", field="policy_number")
    _check_claim_facts(session, runtime, policy.product, data)
    claim = Claim(
        policy=policy,
        policy_id=policy.id,
        product=policy.product,
        status="reported",
        on_hold=False,
        channel=data.channel,
        incident_at=data.incident_at.replace(tzinfo=None),
        report_date=data.report_date or dt.date.today(),
        peril=data.peril,
        description=data.description,
        claimed_amount=data.claimed_amount,
        paid_amount=Decimal("0.00"),
        location=data.location,
        injuries=data.injuries,
        fatalities=data.fatalities,
        police_report=data.police_report,
        third_party=data.third_party,
        payee_account=data.payee_account,
        provider=data.provider,
        facts=data.facts,
        reserve=Decimal("0.00"),
        payee_verified=True,
        reported_by=who.name,
        idempotency_key=key,
        request_hash=fingerprint(data),
        external_reference=data.external_reference,
        contact_email=data.contact_email,
        contact_phone=data.contact_phone,
        language=data.language,
        # A new claim has none of these yet: say so, rather than have each one read back.
        documents=[],
        reviews=[],
        payments=[],
        investigations=[],
    )
    if claim.report_date < dt.date.today():
        # Loaded late (history, or a claim first reported elsewhere): clocks start at the report.
        claim.events[0].at = dt.datetime.combine(claim.report_date, dt.time(9, 0), dt.UTC)
    assessment = assess(session, runtime, claim)
    settle(claim, assessment)
    lifecycle.apply(claim, "request_documents" if claim.required_documents else "start_review")
    # The member with the fewest open claims as this unit of work sees them: a claim stored by
    # another writer meanwhile may make two claims go to one member, never a wrong decision.
    assign(session, runtime, claim)
    due.stamp(session, runtime, claim, book=assessment.book)  # written without a flush: no hook runs
    return claim, assessment


def report(
    session: Session,
    runtime: Runtime,
    data: ClaimIn,
    who: Principal,
    request_id: str,
    key: str | None = None,
    drafted: tuple[Claim, Assessment] | None = None,
) -> tuple[Claim, DecisionRecord]:
    """Register a first notice of loss, adjudicate it and ask for what is missing.

    The claim is built and adjudicated in a read-only unit of work, so the write transaction
    (on SQLite, the database's one write lock) holds only what must be atomic: the policy's
    lock, its inputs read again, the claim's number, its records and the INSERTs. If another
    claim changed what this one is assessed on meanwhile, it is built again under the lock.

    `drafted` is the caller's `draft` of this report, made in a unit of work it has closed.
    Returns the claim and its adjudication record, for the answer to show without reading back.
    """
    if drafted is None:
        with runtime.readers() as reader:
            drafted = draft(reader, runtime, data, who, key)
    claim, assessment = drafted
    policy = session.scalar(POLICY, {"number": data.policy_number})  # locked: the exposure it holds
    if policy is not None:
        claim.policy = policy
    if policy is None or gather(session, runtime, claim) != assessment.inputs:
        claim, assessment = draft(session, runtime, data, who, key)
    # Numbered once it is accepted, before it is written: its number and every record's hash
    # carry the id.
    claim.id = _new_claim_id(session)
    claim.claim_number = f"CLM-{claim.report_date:%Y}-{claim.id:07d}"
    bind_claim(claim.claim_number)
    for event in claim.events:
        event.claim_id = claim.id
    audit.by_person(
        session,
        claim,
        who,
        kind="reported",
        outcome={"status": "reported", "channel": data.channel},
        amount=data.claimed_amount,
        request_id=request_id,
    )
    adjudication = record_assessment(session, runtime, claim, assessment, request_id=request_id)
    outgoing = outbox.at_intake(session, runtime, claim, assessment.book, request_id)  # acknowledgement, jobs
    # The claim, its events, its records and any investigation: one INSERT each, the claim first.
    records = sorted((o for o in session.new if isinstance(o, DecisionRecord)), key=lambda r: r.seq)
    insert_built(session, [claim, *claim.events, *records, *claim.investigations, *outgoing])
    return claim, adjudication


def readjudicate(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    who: Principal,
    request_id: str,
    data: ReadjudicateIn | None = None,
) -> Claim:
    """Re-run rules and risk on a claim's current facts; the run is recorded.

    Without a version, the version in force at the claim's report date decides. A named version
    (approved, by a senior reviewer or admin, with a reason) decides this claim from now on.
    """
    lifecycle.check(claim.status, "adjudicate")
    named = None
    if data is not None and data.rulebook_version is not None:
        if who.role not in ("senior_reviewer", "admin"):
            raise Forbidden("only a senior reviewer or an admin may name a rulebook version", role=who.role)
        stored = session.scalar(
            select(RulebookVersion).where(
                RulebookVersion.name == claim.product, RulebookVersion.version == data.rulebook_version
            )
        )
        if stored is None:
            raise NotFound(
                f"no {claim.product} rulebook version {data.rulebook_version}", field="rulebook_version"
            )
        if stored.status != "approved":
            raise Conflict(
                f"{claim.product} {stored.version} is a {stored.status}: only approved versions decide",
                state=stored.status,
            )
        named = {"version": stored.version, "by": who.name, "reason": data.reason}
    claim.rulebook_named = named["version"] if named else None
    adjudicate(session, runtime, claim, request_id=request_id, named=named)
    _follow_documents(session, runtime, claim, who, request_id, adjudicated=True)
    return claim


def _follow_documents(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    who: Principal,
    request_id: str,
    adjudicated: bool = False,
) -> None:
    """Move the claim between waiting for documents and review as its checklist fills or empties."""
    session.flush()
    session.refresh(claim, ["documents"])
    have = {d.doc_type for d in claim.documents if d.status != "rejected"}
    complete = set(claim.required_documents) <= have
    if claim.status == "documents_pending" and complete:
        if not adjudicated:
            adjudicate(session, runtime, claim, request_id=request_id)
            if not set(claim.required_documents) <= have:
                return  # the new facts require more documents
        action, why = "documents_complete", "documents complete"
    elif claim.status in ("under_review", "senior_review") and not complete:
        if not adjudicated:
            adjudicate(session, runtime, claim, request_id=request_id)
        action, why = "documents_incomplete", "a required document was rejected"
    else:
        return
    lifecycle.apply(claim, action)
    audit.record(
        session,
        claim,
        kind="status",
        actor_type="system",
        actor="service",
        outcome={"status": claim.status, "why": why},
        request_id=request_id,
    )


def add_document(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    data: DocumentIn,
    who: Principal,
    request_id: str,
) -> Document:
    """Register a received document (optionally its content); move on when the checklist fills."""
    lifecycle.check(claim.status, "add_document")
    codes = [d.spec.code for d in decided_by(session, runtime, claim).documents]
    if data.doc_type not in codes:
        raise Unprocessable(
            f"doc_type must be one of {codes}", errors=[{"field": "doc_type", "message": "unknown"}]
        )
    stored = None
    if data.content_base64 is not None:
        try:
            content = base64.b64decode(data.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise Unprocessable("content_base64 is not valid base64", field="content_base64") from None
        if hashlib.sha256(content).hexdigest() != data.sha256:
            raise Unprocessable("sha256 does not match the content", field="sha256")
        folder = runtime.settings.documents_dir / claim.claim_number
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / data.sha256
        path.write_bytes(content)
        stored = str(path)
    document = Document(
        claim_id=claim.id,
        doc_type=data.doc_type,
        file_name=data.file_name,
        sha256=data.sha256,
        stored_path=stored,
        received_by=who.name,
    )
    session.add(document)
    session.flush()
    audit.by_person(
        session,
        claim,
        who,
        kind="document_received",
        outcome={"document": data.doc_type, "sha256": data.sha256},
        request_id=request_id,
    )
    _follow_documents(session, runtime, claim, who, request_id)
    return document


def check_document(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    doc_id: int,
    data: DocumentCheck,
    who: Principal,
    request_id: str,
) -> Document:
    """Mark a document verified or rejected (with a reason); a rejection may reopen the checklist."""
    lifecycle.check(claim.status, "check_document")
    document = session.get(Document, doc_id)
    if document is None or document.claim_id != claim.id:
        raise NotFound(f"claim {claim.claim_number} has no document {doc_id}", field="doc_id")
    if document.status != "received":
        raise Conflict(f"document {doc_id} is already {document.status}", state=document.status)
    document.status, document.reason, document.checked_by = data.status, data.reason, who.name
    audit.by_person(
        session,
        claim,
        who,
        kind="document_checked",
        outcome={"document": document.doc_type, "status": data.status, "reason": data.reason},
        request_id=request_id,
    )
    if data.status == "rejected":
        label = outbox.label_of(decided_by(session, runtime, claim), document.doc_type, claim.language)
        values = {"document": label, "reason": data.reason}
        about = str(document.id)
        outbox.notify(
            session, runtime, claim, "document_rejected", values, about=about, request_id=request_id
        )
    _follow_documents(session, runtime, claim, who, request_id)
    return document


def move(session: Session, claim: Claim, action: str, who: Principal, request_id: str) -> Claim:
    """Withdraw or close a claim; what it still had reserved goes back to its policy."""
    lifecycle.apply(claim, action)
    exposure.release(claim, "withdrawn" if action == "withdraw" else "closed")
    audit.by_person(
        session,
        claim,
        who,
        kind="status",
        outcome={"status": claim.status, "action": action},
        request_id=request_id,
    )
    return claim
