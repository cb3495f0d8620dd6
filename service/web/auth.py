"""The workbench's session: a signed, HttpOnly, SameSite cookie carrying a random token, and the
CSRF token every form must carry back.

The token names a row of `workbench_sessions` (kept as its SHA-256, so the table does not hold
usable cookies). A session ends when the person signs out (on every worker at once), 8 hours
after sign-in whatever the activity, or when the person's key is removed from the service.
The cookie is signed with the session key (CLAIMS_SESSION_KEY, or a random key kept in the
data directory so that every worker and restart shares it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from service.models.sessions import WorkbenchSession
from service.security import Principal, hash_key

COOKIE = "claims_workbench"
MAX_AGE = 8 * 3600  # a working day, counted from the sign-in
LANGUAGES = ("zh-CN", "en")
KEY_BYTES = 32


class SignInNeeded(Exception):
    """The page needs a signed-in person; the handler sends the browser to the sign-in page."""


class CsrfRefused(Exception):
    """A form came back without the session's CSRF token."""


def _new() -> str:
    return secrets.token_urlsafe(32)


def _row_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class WebSession:
    """What the cookie carries: the session's token (none before sign-in), CSRF token, language."""

    token: str | None
    csrf: str
    lang: str = "zh-CN"

    def speaking(self, lang: str) -> WebSession:
        """The same session in another language."""
        return replace(self, lang=lang if lang in LANGUAGES else self.lang)


def sign_in(db: Session, session: WebSession, key: str, who: Principal) -> WebSession:
    """Start a session for the person of this key: a new token and CSRF token (no fixation)."""
    token = _new()
    now = dt.datetime.now(dt.UTC)
    db.add(WorkbenchSession(id=_row_id(token), person=who.name, key_hash=hash_key(key), created_at=now))
    return WebSession(token, _new(), session.lang)


def sign_out(db: Session, session: WebSession) -> WebSession:
    """End the session everywhere; the browser gets an anonymous one with a new CSRF token."""
    if session.token:
        row = db.get(WorkbenchSession, _row_id(session.token))
        if row is not None and row.ended_at is None:
            row.ended_at = dt.datetime.now(dt.UTC)
    return WebSession(None, _new(), session.lang)


def person(db: Session, session: WebSession, keys: dict[str, Principal]) -> Principal | None:
    """The person the session names, if it has not ended, expired or lost its key."""
    if not session.token:
        return None
    row = db.get(WorkbenchSession, _row_id(session.token))
    if row is None or row.ended_at is not None:
        return None
    started = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
    if dt.datetime.now(dt.UTC) - started > dt.timedelta(seconds=MAX_AGE):
        return None
    return keys.get(row.key_hash)


def session_key(data_dir: Path, configured: str | None) -> bytes:
    """The key that signs session cookies: the configured one, or one kept in the data directory.

    The file appears whole or not at all (written aside, then linked into place), so a worker
    starting beside another never reads it half-written.
    """
    if configured:
        return configured.encode()
    path = data_dir / "session.key"
    data_dir.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        with tempfile.NamedTemporaryFile("wb", dir=data_dir, delete=False) as out:
            out.write(secrets.token_urlsafe(48).encode())
        os.chmod(out.name, 0o600)
        try:
            os.link(out.name, path)  # fails if another worker's key got there first: keep theirs
        except FileExistsError:
            pass
        finally:
            os.unlink(out.name)
    key = path.read_bytes().strip()
    if len(key) < KEY_BYTES:
        raise RuntimeError(f"{path} holds a key shorter than {KEY_BYTES} bytes: remove it, or set one")
    return key


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
                return WebSession(data.get("t"), str(data["c"]), str(data.get("l", "zh-CN")))
            except (BadSignature, KeyError, TypeError, AttributeError):
                pass
        return WebSession(None, _new())

    def write(self, response: Response, session: WebSession) -> None:
        """Set the cookie on a response."""
        value = self.signer.dumps({"t": session.token, "c": session.csrf, "l": session.lang})
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE,
            path="/app",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )


def check_csrf(session: WebSession, sent: str | None) -> None:
    """Refuse a form whose token is not the session's."""
    if not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfRefused
