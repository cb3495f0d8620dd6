"""Customer messages: written with the change that causes them, delivered by the worker to a real
local SMTP server and a real HTTP receiver, once per event, through retries and restarts; the
timed jobs (reminder, deadline, survey) and the survey's one-time link."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import re
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, text

from service.models.aftersales import Job, Message
from service.models.claims import Claim
from service.outbox import delivery, worker
from tests.service.conftest import Flow

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.mails: list[email.message.Message] = []
        self.refuse = 0  # how many deliveries to refuse first (a server that is down a while)

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            self.refuse -= 1
            return "451 try again later"
        self.mails.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def _senders(client, port: int, hook: str | None = None) -> dict:
    settings = client.app.state.runtime.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "notify_webhook_url": hook}
    )
    return delivery.senders(settings)


def _messages(flow: Flow, number: str) -> list[dict]:
    return flow.call("analyst", "GET", f"/v1/claims/{number}/messages")


def test_a_paid_claim_sends_acknowledgement_approval_payment_and_survey_once_each(client, flow, smtp):
    inbox, port = smtp
    runtime = client.app.state.runtime
    claim = flow.report(contact_email="wang.li@example.com", language="en")
    n = claim["claim_number"]
    (ack,) = _messages(flow, n)
    assert ack["event"] == "acknowledgement" and ack["status"] == "queued" and n in ack["subject"]
    assert "claim form" in ack["body"] and "by 20" in ack["body"]  # the documents and the deadline
    senders = _senders(client, port)
    assert worker.deliver(runtime, senders) >= 1
    assert worker.deliver(runtime, senders) == 0  # nothing twice
    mail = next(m for m in inbox.mails if n in m["Subject"])
    assert mail["To"] == "wang.li@example.com" and mail["Message-ID"].startswith(
        f"<claim.{claim_id(client, n)}"
    )
    flow.send_documents(claim)
    flow.review(claim, "specialist", "preliminary")
    approved = flow.approve(claim, "specialist")
    flow.pay(approved, f"pay-{n}")
    flow.pay(approved, f"pay-{n}", expect=200)  # a retried payment: no second notice
    events = [m["event"] for m in _messages(flow, n)]
    assert events == ["acknowledgement", "approval", "payment"]
    # The survey goes out after the payment (the policy's delay: none), from the job table.
    assert worker.run_jobs(runtime) >= 1
    worker.deliver(runtime, _senders(client, port))  # a restarted worker: only what is new goes
    shown = _messages(flow, n)
    assert [m["event"] for m in shown] == ["acknowledgement", "approval", "payment", "survey_invitation"]
    assert {m["status"] for m in shown} == {"sent"}
    assert sorted(m["Subject"] for m in inbox.mails if n in m["Subject"]) == sorted(
        m["subject"] for m in shown
    )
    assert worker.run_jobs(runtime, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=50)) == 0  # ran once


def claim_id(client, number: str) -> int:
    with client.app.state.runtime.readers() as session:
        return session.scalar(select(Claim.id).where(Claim.claim_number == number))


def _survey_link(flow: Flow, number: str) -> str:
    """The link as the customer got it (staff see it with its token hidden)."""
    (shown,) = [m for m in _messages(flow, number) if m["event"] == "survey_invitation"]
    assert re.search(r"/survey/…", shown["body"]) and not re.search(
        r"/survey/[A-Za-z0-9_-]{16,}", shown["body"]
    )
    with flow.client.app.state.runtime.readers() as session:
        body = session.get(Message, shown["id"]).body
    return re.search(r"http://[^ )（]+/survey/[A-Za-z0-9_-]+", body).group(0)


def test_the_survey_link_takes_one_answer_and_refuses_a_second_or_a_late_one(client, flow):
    runtime = client.app.state.runtime
    claim = flow.report(contact_email="li@example.com")
    flow.send_documents(claim)
    flow.review(claim, "specialist", "preliminary")
    flow.pay(flow.approve(claim, "specialist"), f"pay-{claim['claim_number']}")
    worker.run_jobs(runtime, now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=25))
    path = _survey_link(flow, claim["claim_number"]).split("8000", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and claim["claim_number"] in page.text
    assert client.post(path, data={"rating": "9"}).status_code == 422
    answered = client.post(path, data={"rating": "4", "comment": "quick and clear"})
    assert answered.status_code == 200 and 'id="thanks"' in answered.text
    again = client.post(path, data={"rating": "1"})
    assert again.status_code == 409 and 'id="problem"' in again.text
    records = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
    (answer,) = [r for r in records if r["kind"] == "survey_answered"]
    assert answer["outcome"]["rating"] == 4 and answer["outcome"]["handlers"] == ["li.wei"]
    assert client.get("/survey/" + "x" * 32).status_code == 404
    with runtime.sessions() as session:
        session.execute(text("UPDATE surveys SET answered_at = NULL, expires_at = :t"), {"t": "2000-01-01"})
        session.commit()
    assert client.post(path, data={"rating": "5"}).status_code == 410


def test_denial_and_rejected_document_letters_carry_their_reasons(flow):
    policy = flow.policy()
    denied = flow.report(policy=policy, contact_email="x@example.com", facts={"driver_intoxicated": True})
    flow.call("specialist", "POST", f"/v1/claims/{denied['claim_number']}/decision", {"outcome": "deny"})
    (letter,) = [m for m in _messages(flow, denied["claim_number"]) if m["event"] == "denial"]
    assert "不予赔付" in letter["body"] and "醉" in letter["body"]  # the rule's own customer text
    claim = flow.send_documents(flow.report(contact_email="y@example.com"))
    doc = claim["documents"]["received"][0]
    flow.call(
        "specialist",
        "PATCH",
        f"/v1/claims/{claim['claim_number']}/documents/{doc['id']}",
        {"status": "rejected", "reason": "the photo is unreadable"},
    )
    rejected = [m for m in _messages(flow, claim["claim_number"]) if m["event"] == "document_rejected"]
    assert len(rejected) == 1 and "the photo is unreadable" in rejected[0]["body"]


def test_a_down_smtp_server_delays_messages_and_loses_none(client, flow, smtp):
    inbox, port = smtp
    runtime = client.app.state.runtime
    n = flow.report(contact_email="z@example.com")["claim_number"]
    inbox.refuse = 1
    assert worker.deliver(runtime, _senders(client, port)) == 0
    (waiting,) = _messages(flow, n)
    assert waiting["status"] == "queued" and waiting["attempts"] == 1 and "451" in waiting["last_error"]
    with runtime.sessions() as session:  # the backoff has passed
        session.execute(text("UPDATE messages SET next_attempt_at = :t"), {"t": "2000-01-01 00:00:00"})
        session.commit()
    assert worker.deliver(runtime, _senders(client, port)) == 1
    assert [m["Subject"] for m in inbox.mails].count(waiting["subject"]) == 1


def test_a_customer_with_a_phone_gets_a_signed_sms_through_the_webhook(client, flow):
    got: list[tuple[dict, str]] = []
    secret = b""

    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((json.loads(body), self.headers[delivery.SIGNATURE], body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        n = flow.report(contact_phone="+86 138 0000 1111")["claim_number"]
        url = f"http://127.0.0.1:{server.server_address[1]}/sms"
        assert worker.deliver(client.app.state.runtime, _senders(client, 1, hook=url)) >= 1
    finally:
        server.shutdown()
    sent = [g for g in got if g[0]["to"] == "+86 138 0000 1111"]
    assert len(sent) == 1 and n in sent[0][0]["subject"] and sent[0][0]["channel"] == "sms"
    stamp, digest = (part.split("=", 1)[1] for part in sent[0][1].split(","))
    expected = hmac.new(secret, f"{stamp}.".encode() + sent[0][2], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)


def test_a_customer_without_contact_keeps_the_letter_unsent(flow):
    n = flow.report()["claim_number"]
    (letter,) = _messages(flow, n)
    assert letter["status"] == "undeliverable" and "no email or phone" in letter["last_error"]


def test_the_document_reminder_and_deadline_run_once_and_only_while_documents_are_owed(client, flow):
    runtime = client.app.state.runtime
    owing = flow.report(contact_email="a@example.com")["claim_number"]
    sent = flow.send_documents(flow.report(contact_email="b@example.com"))["claim_number"]
    assert worker.run_jobs(runtime, now=LATER) >= 4  # two reminders, two deadlines
    assert worker.run_jobs(runtime, now=LATER) == 0
    events = [m["event"] for m in _messages(flow, owing)]
    assert events == ["acknowledgement", "document_reminder", "documents_lapsed"]
    assert [m["event"] for m in _messages(flow, sent)] == ["acknowledgement"]
    records = flow.call("analyst", "GET", f"/v1/claims/{owing}/decisions")
    lapsed = [r for r in records if r["kind"] == "documents_lapsed"]
    assert lapsed and lapsed[0]["outcome"]["action"] == "refer_to_specialist"


def test_two_workers_at_once_run_each_job_and_send_each_message_once(committed_client, smtp):
    inbox, port = smtp
    flow = Flow(committed_client)
    runtime = committed_client.app.state.runtime
    numbers = [flow.report(contact_email=f"c{i}@example.com")["claim_number"] for i in range(6)]
    senders = _senders(committed_client, port)
    with ThreadPoolExecutor(max_workers=4) as pool:
        ran = sum(pool.map(lambda _: worker.run_jobs(runtime, now=LATER), range(4)))
        sent = sum(pool.map(lambda _: worker.deliver(runtime, senders), range(4)))
    with runtime.readers() as session:
        jobs = session.scalars(
            select(Job).where(Job.claim_id.in_(select(Claim.id).where(Claim.claim_number.in_(numbers))))
        ).all()
        messages = session.scalars(
            select(Message).where(
                Message.claim_id.in_(select(Claim.id).where(Claim.claim_number.in_(numbers)))
            )
        ).all()
    assert ran >= len(jobs) == 12 and all(j.status == "done" for j in jobs)
    subjects = [m["Subject"] for m in inbox.mails]
    assert all(subjects.count(m.subject) == 1 for m in messages), subjects
    assert sent >= len(messages) == 18  # acknowledgement, reminder and lapse for each


def test_a_low_rating_opens_a_rectification_item_for_the_claims_team(client, flow):
    claim = flow.report(contact_email="low@example.com")
    flow.send_documents(claim)
    flow.review(claim, "specialist", "preliminary")
    flow.pay(flow.approve(claim, "specialist"), f"pay-{claim['claim_number']}")
    worker.run_jobs(client.app.state.runtime)
    path = _survey_link(flow, claim["claim_number"]).split("8000", 1)[1]
    assert client.post(path, data={"rating": "2", "comment": "slow"}).status_code == 200
    items = [
        i
        for i in flow.call("analyst", "GET", "/v1/rectifications")
        if i["claim_number"] == claim["claim_number"]
    ]
    assert len(items) == 1 and items[0]["source"] == "survey" and "rated" in items[0]["requirement"]


def test_an_email_has_a_date_and_a_well_formed_message_id(client, flow, smtp):
    inbox, port = smtp
    n = flow.report(contact_email="d@example.com")["claim_number"]
    worker.deliver(client.app.state.runtime, _senders(client, port))
    (mail,) = [m for m in inbox.mails if n in m["Subject"]]
    assert mail["Date"] and re.fullmatch(
        r"<[A-Za-z0-9._-]+[A-Za-z0-9]@claims-adjudication>", mail["Message-ID"]
    )


def test_a_claim_that_owes_no_documents_gets_an_acknowledgement_without_a_list(flow):
    n = flow.report(contact_email="e@example.com", facts={"driver_intoxicated": True})["claim_number"]
    (ack,) = _messages(flow, n)
    assert ack["event"] == "acknowledgement_complete" and "：-" not in ack["body"]


def test_survey_pages_answer_bad_links_and_bad_answers_as_pages(client):
    short = client.get("/survey/short")
    assert short.status_code == 422 and short.headers["content-type"].startswith("text/html")
