"""Shared fraud intelligence: confirmed frauds' payee accounts and phones exchanged between
insurers as keyed hashes, never as the values themselves.

Each participating insurer holds the same key (`CLAIMS_INTEL_KEY`). An indicator is
HMAC-SHA256(key, "<kind>:<normalised value>") in hex: the same account gives the same hash at
every insurer, and nobody without the key can test a guess. The file format is
docs/intel-format.md. A claim whose account or phone matches an imported indicator gets the
fact `watchlist_match`, which the shipped rulebooks answer with a referral to investigation
(`INDUSTRY_WATCHLIST_MATCH`), never a denial.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models.claims import Claim
from service.models.intel import Indicator
from service.models.investigations import Investigation

FORMAT = "claims-intel/1"
KINDS = ("payee_account", "phone")
KEY = "intel_key"  # where a unit of work's session info holds the sharing key (bytes or None)
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def normalise(kind: str, value: str) -> str:
    """One spelling per value: an account's or a phone's digits (and letters), nothing else."""
    if kind not in KINDS:
        raise ValueError(f"no indicator kind {kind!r} (kinds: {', '.join(KINDS)})")
    return re.sub(r"[^0-9A-Za-z]", "", value).upper()


def keyed(key: bytes, kind: str, value: str) -> str:
    """The indicator's keyed hash (hex)."""
    return hmac.new(key, f"{kind}:{normalise(kind, value)}".encode(), hashlib.sha256).hexdigest()


def claim_hashes(key: bytes | None, claim: Claim) -> dict[str, str | None]:
    """A claim's indicators as keyed hashes (None for what it lacks, or with no key)."""
    values = {"payee_account": claim.payee_account, "phone": claim.contact_phone}
    return {
        kind: keyed(key, kind, v) if key and v and normalise(kind, v) else None for kind, v in values.items()
    }


def export(session: Session, key: bytes, issuer: str, since: dt.date | None = None) -> dict[str, Any]:
    """The indicators of every claim an investigation confirmed as fraud (since a day, if given)."""
    query = (
        select(Claim.payee_account, Claim.contact_phone, Claim.report_date)
        .join(Investigation, Investigation.claim_id == Claim.id)
        .where(Investigation.status == "confirmed_fraud")
    )
    if since is not None:
        query = query.where(Claim.report_date >= since)
    first: dict[tuple[str, str], dt.date] = {}
    for account, phone, day in session.execute(query):
        for kind, value in (("payee_account", account), ("phone", phone)):
            if value and normalise(kind, value):
                item = (kind, keyed(key, kind, value))
                first[item] = min(first.get(item, day), day)
    return {
        "format": FORMAT,
        "issuer": issuer,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "indicators": [
            {"kind": kind, "hash": digest, "first_seen": day.isoformat()}
            for (kind, digest), day in sorted(first.items())
        ],
    }


def check(document: Any) -> list[dict[str, Any]]:
    """The indicators of a shared file, or a ValueError naming what is wrong with it."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ValueError(f"not a {FORMAT} file (format: {found!r})")
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or not 1 <= len(issuer) <= 80:
        raise ValueError("'issuer' must name who shared the file (1-80 characters)")
    items = document.get("indicators")
    if not isinstance(items, list):
        raise ValueError("'indicators' must be a list")
    for n, item in enumerate(items):
        if not isinstance(item, dict) or item.get("kind") not in KINDS:
            raise ValueError(f"indicators[{n}].kind must be one of {list(KINDS)}")
        if not isinstance(item.get("hash"), str) or not HEX64.match(item["hash"]):
            raise ValueError(f"indicators[{n}].hash must be 64 lower-case hex digits (HMAC-SHA256)")
        if item.get("first_seen") is not None:
            try:
                dt.date.fromisoformat(item["first_seen"])
            except (TypeError, ValueError):
                raise ValueError(f"indicators[{n}].first_seen must be a date (YYYY-MM-DD)") from None
    return items


def import_document(session: Session, document: Any) -> tuple[int, int]:
    """Store a shared file's indicators under its issuer; return (new, already known)."""
    items = check(document)
    source = document["issuer"]
    known = {
        (kind, digest)
        for kind, digest in session.execute(
            select(Indicator.kind, Indicator.hash).where(Indicator.source == source)
        )
    }
    now = dt.datetime.now(dt.UTC)
    new = 0
    for item in items:
        if (item["kind"], item["hash"]) in known:
            continue
        known.add((item["kind"], item["hash"]))
        seen = dt.date.fromisoformat(item["first_seen"]) if item.get("first_seen") else None
        session.add(
            Indicator(kind=item["kind"], hash=item["hash"], source=source, first_seen=seen, imported_at=now)
        )
        new += 1
    return new, len(items) - new
