"""Writing messages and timed jobs, in the unit of work of the change that causes them.

A message's dedupe key is its claim and event (and, for repeatable events, what it is about):
a retried request or a rerun job finds the message there already and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit
from service.database import utc_text
from service.models.aftersales import Job, Message
from service.models.claims import Claim
from service.runtime import Runtime

FIRST_TRY_DELAY = dt.timedelta(0)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def channel_of(claim: Claim) -> tuple[str, str | None]:
    """The customer's channel and address: email if known, else SMS to a phone, else none."""
    if claim.contact_email:
        return "email", claim.contact_email
    if claim.contact_phone:
        return "sms", claim.contact_phone
    return "none", None


def build(runtime: Runtime, claim: Claim, event: str, values: dict[str, Any], about: str = "") -> Message:
    """A message of an event to a claim's customer, in their language, not yet added anywhere."""
    lang = claim.language or "zh-CN"
    subject, body = runtime.settings.aftersales.render(
        event, lang, {"claim_number": claim.claim_number, **values}
    )
    channel, recipient = channel_of(claim)
    now = _now()
    return Message(
        claim_id=claim.id,
        event=event,
        dedupe_key=f"claim:{claim.id}:{event}:{about}"[:120],
        channel=channel,
        recipient=recipient,
        lang=lang,
        subject=subject,
        body=body,
        # A customer we cannot reach: kept on the claim (the letter exists), never sent.
        status="queued" if channel != "none" else "undeliverable",
        attempts=0,
        next_attempt_at=now + FIRST_TRY_DELAY,
        last_error=None if channel != "none" else "no email or phone for this customer",
        created_at=now,
        sent_at=None,
    )


def plan(kind: str, claim: Claim, due_at: dt.datetime, payload: dict[str, Any] | None = None) -> Job:
    """A timed job about a claim, not yet added anywhere (one per kind and claim)."""
    return Job(
        kind=kind,
        claim_id=claim.id,
        dedupe_key=f"claim:{claim.id}:{kind}"[:120],
        due_at=due_at,
        status="pending",
        attempts=0,
        payload=payload or {},
        last_error=None,
        done_at=None,
    )


def _absent(session: Session, model: type, key: str) -> bool:
    return session.scalar(select(model.id).where(model.dedupe_key == key)) is None


def notify(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    event: str,
    values: dict[str, Any],
    about: str = "",
    request_id: str | None = None,
) -> Message | None:
    """Queue an event's message to the customer, once (None if it was queued before)."""
    message = build(runtime, claim, event, values, about)
    if not _absent(session, Message, message.dedupe_key):
        return None
    session.add(message)
    record(session, claim, message, request_id)
    return message


def record(session: Session, claim: Claim, message: Message, request_id: str | None = None) -> None:
    """Keep a message in the claim's decision records: what was sent, on which channel."""
    audit.record(
        session,
        claim,
        kind="message",
        actor_type="system",
        actor="outbox",
        outcome={
            "event": message.event,
            "channel": message.channel,
            "status": message.status,
            "subject": message.subject,
            "key": message.dedupe_key,
        },
        request_id=request_id,
    )


def schedule(
    session: Session, claim: Claim, kind: str, due_at: dt.datetime, payload: dict[str, Any] | None = None
) -> Job | None:
    """Plan a timed job about a claim, once (None if it was planned before)."""
    job = plan(kind, claim, due_at, payload)
    if not _absent(session, Job, job.dedupe_key):
        return None
    session.add(job)
    return job


def at_opening(runtime: Runtime, day: dt.date) -> dt.datetime:
    """The moment the office opens on a day (local service hours), in UTC."""
    opens = dt.datetime.combine(day, runtime.settings.aftersales.service_hours.start, runtime.settings.zone)
    return opens.astimezone(dt.UTC)


SURVEY_LINK = re.compile(r"(/survey/)[A-Za-z0-9_-]+")


def masked(text: str) -> str:
    """A message as staff see it: a survey link's token hidden (only the customer may answer)."""
    return SURVEY_LINK.sub(r"\1…", text)


def messages_of(session: Session, claim: Claim) -> list[dict[str, Any]]:
    """A claim's messages, oldest first, as the claim's page and the API show them."""
    rows = session.scalars(select(Message).where(Message.claim_id == claim.id).order_by(Message.id))
    return [
        {
            "id": m.id,
            "event": m.event,
            "channel": m.channel,
            "recipient": m.recipient,
            "lang": m.lang,
            "subject": m.subject,
            "body": masked(m.body),
            "status": m.status,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "created_at": utc_text(m.created_at),
            "sent_at": utc_text(m.sent_at),
        }
        for m in rows
    ]


def document_deadline(claim: Claim, book: Any) -> dt.date:
    """The day the customer's documents are due: the rulebook's document days after the report."""
    return claim.report_date + dt.timedelta(days=int(book.params["document_days"]))


def label_of(book: Any, code: str, lang: str | None) -> str:
    """A document's name in a language, as the rulebook gives it."""
    for document in book.documents:
        if document.spec.code == code:
            return document.spec.label.as_dict().get(lang or "zh-CN") or code
    return code


def missing_documents(claim: Claim, book: Any) -> str:
    """The documents still missing, named in the customer's language."""
    labels = {d.spec.code: d.spec.label.as_dict() for d in book.documents}
    have = {d.doc_type for d in claim.documents if d.status != "rejected"}
    lang = claim.language or "zh-CN"
    names = [labels.get(c, {}).get(lang) or c for c in claim.required_documents if c not in have]
    return ("、" if lang == "zh-CN" else ", ").join(names)


def at_intake(
    session: Session, runtime: Runtime, claim: Claim, book: Any, request_id: str | None = None
) -> list[Message | Job]:
    """What a new claim sends and plans: the acknowledgement with the documents to send, and,
    if documents are owed, the reminder before their deadline and the check at it (returned to
    be written with the claim; the acknowledgement's record is added to its chain)."""
    deadline = document_deadline(claim, book)
    missing = missing_documents(claim, book)
    if missing:
        values = {"documents": missing, "document_deadline": deadline.isoformat()}
        out: list[Message | Job] = [build(runtime, claim, "acknowledgement", values)]
    else:
        out = [build(runtime, claim, "acknowledgement_complete", {}, about="")]
    record(session, claim, out[0], request_id)
    if claim.status == "documents_pending":
        remind = runtime.settings.aftersales.reminder_day(deadline, runtime.settings.calendar)
        out.append(plan("document_reminder", claim, at_opening(runtime, max(remind, claim.report_date))))
        out.append(plan("document_deadline", claim, at_opening(runtime, deadline + dt.timedelta(days=1))))
    return out


def after_service(session: Session, runtime: Runtime, claim: Claim, ending: str) -> None:
    """Plan the satisfaction survey once a claim is paid or denied, as the policy says."""
    survey = runtime.settings.aftersales.survey
    if ending in survey.after:
        schedule(session, claim, "survey", _now() + dt.timedelta(hours=survey.delay_hours))


def decided(
    session: Session,
    runtime: Runtime,
    claim: Claim,
    reasons: list[dict[str, Any]],
    request_id: str | None = None,
) -> None:
    """The decision letter: the approval with its amount, or the denial with each reason's text."""
    lang = claim.language or "zh-CN"
    if claim.status == "approved":
        notify(session, runtime, claim, "approval", {"amount": claim.approved_amount}, request_id=request_id)
        return
    texts = [(r.get("customer") or {}).get(lang) or r["code"] for r in reasons]
    notify(session, runtime, claim, "denial", {"reasons": " ".join(texts)}, request_id=request_id)
    after_service(session, runtime, claim, "denied")


def paid(
    session: Session, runtime: Runtime, claim: Claim, payment: Any, request_id: str | None = None
) -> None:
    """The payment notice; the survey once the claim is paid in full."""
    methods = {"bank_transfer": ("银行转账", "bank transfer"), "cheque": ("支票", "cheque")}
    method = methods.get(payment.method, (payment.method, payment.method))[0 if claim.language != "en" else 1]
    values = {"amount": payment.amount, "method": method, "reference": payment.reference}
    notify(session, runtime, claim, "payment", values, about=payment.reference, request_id=request_id)
    if claim.status == "paid":
        after_service(session, runtime, claim, "paid")
