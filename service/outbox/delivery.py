"""How a message leaves: email over SMTP, SMS / app push through a signed webhook, or (with
nothing configured) the log. Each sender raises `DeliveryError` when the message did not go."""

from __future__ import annotations

import json
import smtplib
import time
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import httpx
import structlog

from service.config import Settings
from service.models.aftersales import Message
from service.signing import SIGNATURE, sign

log = structlog.get_logger("service.outbox")  # JSON lines, as the service's own log
__all__ = ["SIGNATURE", "DeliveryError", "Sender", "senders", "sign"]


class DeliveryError(RuntimeError):
    """The message did not go; it is tried again later."""


class Sender(Protocol):
    """Delivers one message, or raises DeliveryError."""

    def __call__(self, message: Message) -> None:
        """Deliver the message."""


def message_id(message: Message) -> str:
    """The same Message-ID on every attempt, so a receiver can drop a repeat."""
    local = ".".join(part for part in message.dedupe_key.split(":") if part)
    return f"<{local}@claims-adjudication>"


def smtp(settings: Settings) -> Sender:
    """Email over SMTP to the configured server."""

    def send(message: Message) -> None:
        email = EmailMessage()
        email["From"] = settings.smtp_sender
        email["To"] = message.recipient or ""
        email["Subject"] = message.subject
        email["Message-ID"] = message_id(message)
        email["Date"] = formatdate(usegmt=True)
        email.set_content(message.body)
        try:
            with smtplib.SMTP(settings.smtp_host or "localhost", settings.smtp_port, timeout=10) as server:
                server.send_message(email)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc

    return send


def webhook(settings: Settings) -> Sender:
    """SMS / app push: a signed JSON POST to the configured adapter."""
    secret = (
        settings.notify_webhook_secret.get_secret_value().encode() if settings.notify_webhook_secret else b""
    )

    def send(message: Message) -> None:
        body = json.dumps(
            {
                "id": message.dedupe_key,
                "channel": message.channel,
                "to": message.recipient,
                "lang": message.lang,
                "subject": message.subject,
                "text": message.body,
            },
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", SIGNATURE: sign(secret, int(time.time()), body)}
        try:
            answer = httpx.post(settings.notify_webhook_url or "", content=body, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook: {exc}") from exc
        if answer.status_code >= 300:
            raise DeliveryError(f"webhook answered {answer.status_code}")

    return send


def logged(message: Message) -> None:
    """No server configured for the channel: the message goes to the log (and counts as sent)."""
    log.info(
        "message %s to %s: %s | %s", message.dedupe_key, message.recipient, message.subject, message.body
    )


def senders(settings: Settings) -> dict[str, Sender]:
    """The sender of each channel under these settings."""
    mail = smtp(settings) if settings.smtp_host else logged
    push = webhook(settings) if settings.notify_webhook_url else logged
    return {"email": mail, "sms": push, "app": push}
