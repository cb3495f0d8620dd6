"""Signed deliveries: the header every outgoing webhook carries, and how a receiver checks it.

`X-Claims-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`. A receiver
recomputes the HMAC over the exact bytes it received, compares in constant time and refuses a
timestamp older than its tolerance, so a captured delivery cannot be replayed later; within the
tolerance, the events' ids let it drop a repeat.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE = "X-Claims-Signature"
TOLERANCE_SECONDS = 300


class BadSignature(ValueError):
    """The signature is missing, malformed, wrong, or too old."""


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The signature header's value for a body sent at a time."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(
    secret: bytes,
    header: str | None,
    body: bytes,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> int:
    """Check a delivery's signature header against its body; return its timestamp or raise BadSignature."""
    if not header:
        raise BadSignature("no signature header")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError) as exc:
        raise BadSignature(f"malformed signature header: {header!r}") from exc
    if not hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={given}"):
        raise BadSignature("signature does not match the body")
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise BadSignature(f"signed {age:.0f} s ago, beyond the {tolerance} s tolerance")
    return timestamp
