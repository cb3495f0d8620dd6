"""The worker: runs timed jobs when they fall due and delivers queued messages, with retries.

Jobs run exactly once: each runs in the transaction that marks it done (PostgreSQL skips rows
another worker holds; SQLite lets one writer in at a time). A message is leased before it is
sent and marked sent after, so two workers never send it at once; a worker that dies between
sending and marking leaves it to be sent again after the lease, with the same Message-ID (at
least once, never two messages for one event).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from service import audit, exposure, lifecycle
from service.adjudication import decided_by
from service.complaints import service as complaints
from service.feed import webhooks
from service.models.aftersales import Job, Message
from service.models.claims import Claim
from service.outbox import delivery
from service.outbox import service as outbox
from service.rectification import service as rectification
from service.runtime import Runtime
from service.surveys import service as surveys

log = logging.getLogger("service.outbox")
LEASE = dt.timedelta(seconds=60)
MAX_ATTEMPTS = 8
BATCH = 50


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait before the next try: 30 s, doubling, at most an hour."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _locked(session: Session, query: Any) -> Any:
    # PostgreSQL: rows another worker holds are skipped, not waited for (SQLite has one writer).
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


# --- timed jobs ---------------------------------------------------------------------------


def _still_owed(session: Session, runtime: Runtime, claim: Claim) -> tuple[Any, str] | None:
    if claim.status != "documents_pending":
        return None
    book = decided_by(session, runtime, claim)
    missing = outbox.missing_documents(claim, book)
    return (book, missing) if missing else None


def _reminder(session: Session, runtime: Runtime, claim: Claim, job: Job) -> None:
    owed = _still_owed(session, runtime, claim)
    if owed is not None:
        book, missing = owed
        deadline = outbox.document_deadline(claim, book).isoformat()
        outbox.notify(
            session,
            runtime,
            claim,
            "document_reminder",
            {"documents": missing, "document_deadline": deadline},
        )


def _deadline(session: Session, runtime: Runtime, claim: Claim, job: Job) -> None:
    owed = _still_owed(session, runtime, claim)
    if owed is None:
        return
    book, missing = owed
    deadline = outbox.document_deadline(claim, book).isoformat()
    values = {"documents": missing, "document_deadline": deadline}
    outbox.notify(session, runtime, claim, "documents_lapsed", values)
    action = runtime.settings.aftersales.documents.at_deadline
    reason = {
        "code": "DOCUMENTS_NOT_PROVIDED",
        "category": "decision",
        "customer": {
            "zh-CN": f"在 {deadline} 前未收到所需单证：{missing}。",
            "en": f"The documents needed were not received by {deadline}: {missing}.",
        },
    }
    if action == "close_incomplete":
        lifecycle.apply(claim, "deny")
        exposure.release(claim, "documents not provided")
    audit.record(
        session,
        claim,
        kind="documents_lapsed" if action == "refer_to_specialist" else "decision",
        actor_type="system",
        actor="aftersales-policy",
        outcome={"action": action, "missing": missing, "deadline": deadline, "status": claim.status},
        reasons=[reason],
    )
    if action == "close_incomplete":
        outbox.decided(session, runtime, claim, [reason])


def _survey(session: Session, runtime: Runtime, claim: Claim, job: Job) -> None:
    token = surveys.start(session, runtime, claim)
    if token is None:
        return  # a member of the claim's team calls the customer instead
    link = f"{runtime.settings.public_url.rstrip('/')}/survey/{token}"
    days = runtime.settings.aftersales.survey.token_days
    outbox.notify(session, runtime, claim, "survey_invitation", {"survey_link": link, "token_days": days})


def _escalation(session: Session, runtime: Runtime, claim: Claim | None, job: Job) -> None:
    complaints.escalate(session, int(job.payload["complaint_id"]), job.payload.get("clock", "first_response"))


HANDLERS: dict[str, Callable[[Session, Runtime, Any, Job], None]] = {
    "document_reminder": _reminder,
    "document_deadline": _deadline,
    "survey": _survey,
    "complaint_escalation": _escalation,
}
ABOUT_A_CLAIM = {"document_reminder", "document_deadline", "survey"}


def run_jobs(runtime: Runtime, now: dt.datetime | None = None, limit: int = BATCH) -> int:
    """Run the jobs that are due, each once, in the transaction that marks it done; return how many."""
    now = now or _now()
    ran = 0
    while ran < limit:
        with runtime.sessions() as session:
            query = select(Job).where(Job.status == "pending", Job.due_at <= now).order_by(Job.due_at, Job.id)
            job = session.scalars(_locked(session, query.limit(1))).first()
            if job is None:
                return ran
            job_id = job.id
            try:
                claim = session.get(Claim, job.claim_id) if job.claim_id else None
                if claim is not None or job.kind not in ABOUT_A_CLAIM:
                    HANDLERS[job.kind](session, runtime, claim, job)
                job.status, job.done_at = "done", _now()
                session.commit()
            except Exception as exc:  # a job that fails is tried again later, then given up on
                session.rollback()
                log.warning("job %s (%s) failed: %s", job_id, job.kind, exc)
                _retry(runtime, Job, job_id, exc, now, due_field="due_at")
        ran += 1
    return ran


def _retry(
    runtime: Runtime, model: type, row_id: int, exc: Exception, now: dt.datetime, due_field: str
) -> None:
    with runtime.sessions() as session:
        row = session.get(model, row_id)
        row.attempts += 1
        row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if row.attempts >= MAX_ATTEMPTS:
            row.status = "failed"
        else:
            setattr(row, due_field, now + backoff(row.attempts))
            if model is Message:
                row.status = "queued"
        session.commit()


# --- messages -----------------------------------------------------------------------------


def _lease(runtime: Runtime, now: dt.datetime, limit: int) -> list[int]:
    """Take up to `limit` due messages for this worker: marked sending until the lease ends."""
    with runtime.sessions() as session:
        query = (
            select(Message)
            .where(Message.status.in_(("queued", "sending")), Message.next_attempt_at <= now)
            .order_by(Message.next_attempt_at, Message.id)
            .limit(limit)
        )
        taken = list(session.scalars(_locked(session, query)))
        for message in taken:
            message.status, message.next_attempt_at = "sending", now + LEASE
        session.commit()
        return [m.id for m in taken]


def deliver(runtime: Runtime, senders: dict[str, delivery.Sender] | None = None, limit: int = BATCH) -> int:
    """Send the messages that are due; return how many went."""
    senders = senders or delivery.senders(runtime.settings)
    now = _now()
    sent = 0
    for message_id in _lease(runtime, now, limit):
        with runtime.readers() as reader:
            message = reader.get(Message, message_id)
            reader.expunge(message)
        try:
            senders[message.channel](message)
        except Exception as exc:
            log.warning("message %s not delivered: %s", message.dedupe_key, exc)
            _retry(runtime, Message, message_id, exc, _now(), due_field="next_attempt_at")
            continue
        with runtime.sessions() as session:
            row = session.get(Message, message_id)
            row.status, row.sent_at, row.attempts = "sent", _now(), row.attempts + 1
            session.commit()
        sent += 1
    return sent


def sweep(runtime: Runtime) -> tuple[int, int]:
    """The periodic checks: a rectification item for each claim newly past an SLA deadline, and
    items past their own deadline escalated; return how many of each."""
    today = dt.datetime.now(runtime.settings.zone).date()
    with runtime.sessions() as session:
        opened = rectification.sweep_breaches(session, runtime, today)
        escalated = rectification.escalate_overdue(session, runtime, today)
        session.commit()
    if escalated:
        log.warning("rectification items escalated: %d overdue", escalated)
    return opened, escalated


SWEEP_SECONDS = 60.0


def run(runtime: Runtime, stop: threading.Event, interval: float = 1.0) -> None:
    """Run jobs and deliver messages until `stop` is set; sleep `interval` when there is nothing."""
    senders = delivery.senders(runtime.settings)
    hooks = httpx.Client(follow_redirects=False)
    post = webhooks.poster(hooks)
    swept = 0.0
    while not stop.is_set():
        try:
            if time.monotonic() - swept >= SWEEP_SECONDS:
                sweep(runtime)
                swept = time.monotonic()
            busy = run_jobs(runtime) + deliver(runtime, senders)
            busy += webhooks.deliver_due(runtime.sessions, runtime.readers, post)
        except Exception:  # the database went away for a moment: try again next round
            log.exception("worker round failed")
            busy = 0
        if not busy:
            stop.wait(interval)
    hooks.close()
