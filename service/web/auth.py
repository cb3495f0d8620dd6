"""The workbench's session: a signed, HttpOnly, SameSite cookie naming the person's key, and the
CSRF token every form must carry back.

The cookie holds the SHA-256 of the person's API key (the form the service keeps), so a key
removed from the service ends its sessions at the next request. It is signed with the session
key (CLAIMS_SESSION_KEY, or a random key kept in the data directory so that every worker and
restart shares it) and expires after `MAX_AGE` seconds.
"""

from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from service.security import Principal, hash_key

COOKIE = "claims_workbench"
MAX_AGE = 8 * 3600  # a working day
LANGUAGES = ("zh-CN", "en")


class SignInNeeded(Exception):
    """The page needs a signed-in person; the handler sends the browser to the sign-in page."""


class CsrfRefused(Exception):
    """A form came back without the session's CSRF token."""


@dataclass(frozen=True)
class WebSession:
    """What the cookie carries: whose key (hashed), the CSRF token and the language."""

    key_hash: str | None
    csrf: str
    lang: str = "zh-CN"

    def signed_in(self, key: str) -> WebSession:
        """A session for the person of this key, with a new CSRF token (no fixation)."""
        return WebSession(hash_key(key), secrets.token_urlsafe(24), self.lang)

    def signed_out(self) -> WebSession:
        """A session for nobody, with a new CSRF token."""
        return WebSession(None, secrets.token_urlsafe(24), self.lang)

    def speaking(self, lang: str) -> WebSession:
        """The same session in another language."""
        return replace(self, lang=lang if lang in LANGUAGES else self.lang)


def session_key(data_dir: Path, configured: str | None) -> bytes:
    """The key that signs session cookies: the configured one, or one kept in the data directory."""
    if configured:
        return configured.encode()
    path = data_dir / "session.key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # Exclusive create: of several workers starting at once, one writes it and all read it.
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(descriptor, "wb") as out:
        out.write(secrets.token_urlsafe(48).encode())
    return path.read_bytes().strip()


class Sessions:
    """Reads and writes the workbench cookie."""

    def __init__(self, key: bytes, secure: bool) -> None:
        self.signer = URLSafeTimedSerializer(key, salt="claims-workbench-session")
        self.secure = secure

    def read(self, request: Request) -> WebSession:
        """The request's session, or a new anonymous one (bad signature or expired: anonymous)."""
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = self.signer.loads(raw, max_age=MAX_AGE)
                return WebSession(data.get("k"), str(data["c"]), str(data.get("l", "zh-CN")))
            except (BadSignature, KeyError, TypeError, AttributeError):
                pass
        return WebSession(None, secrets.token_urlsafe(24))

    def write(self, response: Response, session: WebSession) -> None:
        """Set the cookie on a response."""
        value = self.signer.dumps({"k": session.key_hash, "c": session.csrf, "l": session.lang})
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE,
            path="/app",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )


def person(session: WebSession, keys: dict[str, Principal]) -> Principal | None:
    """The person the session names, if their key is still known."""
    if session.key_hash is None:
        return None
    return keys.get(session.key_hash)


def check_csrf(session: WebSession, sent: str | None) -> None:
    """Refuse a form whose token is not the session's."""
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfRefused
