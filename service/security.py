"""API keys mapped to roles; keys are kept only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from service.errors import Unauthorized

ROLES = (
    "claims_system",
    "specialist",
    "senior_reviewer",
    "investigator",
    "analyst",
    "risk_team",
    "admin",
)
# Who may read what (admin may do all): one place, so every domain's routes agree.
CLAIM_READERS = ("claims_system", "specialist", "senior_reviewer", "investigator", "analyst", "risk_team")
RULEBOOK_READERS = ("analyst", "risk_team", "senior_reviewer", "specialist")
MANAGERS = ("analyst", "risk_team", "senior_reviewer")  # the reports
# Who may take each action (admin may take all): read by the API's routes and the workbench's
# pages alike, so a button is shown exactly when its request would be admitted.
MAY: dict[str, tuple[str, ...]] = {
    "report": ("claims_system",),
    "add_document": ("claims_system", "specialist"),
    "check_document": ("specialist", "senior_reviewer"),
    "readjudicate": ("specialist", "senior_reviewer"),
    "review": ("specialist", "senior_reviewer"),
    "assignment": ("specialist", "senior_reviewer", "investigator"),
    "decide": ("specialist", "senior_reviewer"),
    "change_payee": ("claims_system",),
    "verify_payee": ("specialist", "senior_reviewer"),
    "withdraw": ("claims_system",),
    "close": ("claims_system", "specialist"),
    "pay": ("claims_system",),
    "investigations": ("investigator", "risk_team"),
    "conclude": ("investigator",),
    "rulebooks": RULEBOOK_READERS,
    "change_rulebook": ("analyst",),
    "claims": CLAIM_READERS,
    "reports": MANAGERS,
    "complain": ("claims_system", "specialist", "senior_reviewer"),  # record a complaint
    "handle_complaint": ("specialist", "senior_reviewer"),  # respond, resolve
    "complaints": ("claims_system", "specialist", "senior_reviewer", "analyst", "risk_team"),
    "supervise": ("senior_reviewer", "analyst"),  # raise a rectification notice
    "follow_up": ("specialist", "senior_reviewer"),  # call a customer for the satisfaction survey
    "rectify": ("specialist", "senior_reviewer", "investigator", "analyst", "risk_team"),
}
SUPERVISORS = (*MAY["supervise"], "admin")  # who oversees after-sales work: closes, hands over


def holds_or_oversees(who: Principal, holder: str | None, members: tuple[str, ...] = ()) -> bool:
    """Whether a person may act on an after-sales item: its holder, its team's member, or a supervisor."""
    return who.role in SUPERVISORS or who.name == holder or who.name in members


def may(role: str, action: str) -> bool:
    """Return whether a role may take an action (admin may take every one)."""
    return role == "admin" or role in MAY[action]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a named person or system with one role."""

    name: str
    role: str


def identify(keys: Mapping[str, Principal], api_key: str | None, authorization: str | None) -> Principal:
    """Return who an X-API-Key or `Authorization: Bearer` key belongs to; raise 401 if nobody."""
    key = api_key
    if not key and (authorization or "").lower().startswith("bearer "):
        key = (authorization or "")[7:].strip()
    if not key:
        raise Unauthorized("send an API key in the X-API-Key header")
    digest = hash_key(key)
    for known, principal in keys.items():
        if hmac.compare_digest(known, digest):
            return principal
    raise Unauthorized("the API key is not known")


def hash_key(key: str) -> str:
    """Return the stored form of an API key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def parse_env_keys(text: str) -> dict[str, Principal]:
    """Parse 'role:name:key,...' into hashed entries."""
    out: dict[str, Principal] = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        role, name, key = item.split(":", 2)
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} in CLAIMS_API_KEYS")
        out[hash_key(key)] = Principal(name, role)
    return out


def load_key_file(path: Path) -> dict[str, Principal]:
    """Load hashed keys from a JSON file {hash: {name, role}}."""
    if not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    out = {}
    for digest, entry in raw.items():
        if entry["role"] not in ROLES:
            raise ValueError(f"unknown role {entry['role']!r} in {path}")
        out[digest] = Principal(entry["name"], entry["role"])
    return out


def create_demo_keys(path: Path) -> dict[str, str]:
    """Create one demo key per role (two specialists, two senior reviewers); store hashes only.

    Returns the plain keys, which are shown once and never stored by the service.
    """
    people = [
        ("claims_system", "claims-system"),
        ("specialist", "li.wei"),
        ("specialist", "chen.jing"),
        ("senior_reviewer", "wang.fang"),
        ("senior_reviewer", "zhang.min"),
        ("investigator", "liu.yang"),
        ("analyst", "zhao.lei"),
        ("analyst", "sun.li"),
        ("risk_team", "zhou.xin"),
        ("admin", "admin"),
    ]
    plain, stored = {}, {}
    for role, name in people:
        key = f"{role[:4]}_{secrets.token_urlsafe(18)}"
        plain[name] = key
        stored[hash_key(key)] = {"name": name, "role": role}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2), encoding="utf-8")
    return plain


def add_key(path: Path, name: str, role: str) -> str:
    """Give a person (or system) a new API key of a role in the key file; return the plain key once."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if not name or len(name) > 80 or not all(c.isalnum() or c in "._-" for c in name):
        raise ValueError(f"{name!r} is not a name: letters, digits, '.', '_' or '-', at most 80")
    stored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    key = f"{role[:4]}_{secrets.token_urlsafe(18)}"
    stored[hash_key(key)] = {"name": name, "role": role}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stored, indent=2), encoding="utf-8")
    return key
