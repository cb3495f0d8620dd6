"""Append-only decision records chained by hash, and their verification."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from dataclasses import dataclass, is_dataclass
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models.claims import Claim, DecisionRecord
from service.security import Principal

GENESIS = "0" * 64
KEY = "audit_key"  # where a unit of work's session info holds the audit key (bytes or None)
HASHED = (
    "claim_id",
    "seq",
    "kind",
    "actor_type",
    "actor",
    "decided_at",
    "request_id",
    "facts",
    "facts_hash",
    "rulebook_name",
    "rulebook_version",
    "rulebook_sha256",
    "model_name",
    "model_version",
    "outcome",
    "amount",
    "reasons",
    "previous_hash",
)
SORTED = sorted(HASHED)


def _plain(value: Any) -> Any:
    # A dataclass (a reason, a risk factor) serializes as its fields: no deep copy made first.
    if is_dataclass(value) and not isinstance(value, type):
        return value.__dict__
    return str(value)


def canonical(value: Any) -> str:
    """Serialize deterministically (sorted keys, no spaces) for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)


def sha256(text: str) -> str:
    """Return the hex SHA-256 of text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _field_text(value: Any) -> str:
    """canonical() of one field, without a json.dumps call for the plain values most fields hold
    (the same text: json writes None, booleans, ints and str exactly so)."""
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if type(value) is int:
        return int.__repr__(value)
    if type(value) is str:
        return encode_basestring(value)
    return canonical(value)


def record_hash(record: DecisionRecord, texts: dict[str, str] | None = None) -> str:
    """Return the hash a record must carry: its content and its predecessor's hash.

    The hash is of canonical() of the record's fields, put together from each field's own
    canonical text (a sorted-key object is its sorted members): `texts` passes the ones
    already serialized, so the large parts are serialized only once.
    """
    known = texts or {}
    parts = (f'"{name}":{known.get(name) or _field_text(getattr(record, name))}' for name in SORTED)
    return sha256("{" + ",".join(parts) + "}")


def head_seal(key: bytes, claim_id: int, seq: int, head: str) -> str:
    """Return the seal of a claim's chain head: HMAC-SHA256 under the audit key."""
    return hmac.new(key, f"{claim_id}:{seq}:{head}".encode(), hashlib.sha256).hexdigest()


def record(
    session: Session,
    claim: Claim,
    *,
    kind: str,
    actor_type: str,
    actor: str,
    outcome: dict[str, Any],
    amount: Any = None,
    reasons: list[Any] | None = None,
    facts: dict[str, Any] | None = None,
    rulebook: tuple[str, str, str] | None = None,
    model: tuple[str, str] | None = None,
    request_id: str | None = None,
) -> DecisionRecord:
    """Append one decision to a claim's chain (written with the claim, committed with the unit of work)."""
    # The claim row carries the chain head; its version lock serializes writers on one claim.
    claim.updated_at = dt.datetime.now(dt.UTC)
    texts = {
        "facts": canonical(facts),  # null when there are none
        "outcome": canonical(outcome),
        "reasons": canonical(reasons or []),
    }
    entry = DecisionRecord(
        claim_id=claim.id,
        seq=(claim.chain_seq or 0) + 1,
        kind=kind,
        actor_type=actor_type,
        actor=actor,
        decided_at=dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"),
        request_id=request_id,
        # Stored as read back: plain JSON values, exactly what the hash covers.
        facts=json.loads(texts["facts"]),
        facts_hash=sha256(texts["facts"]) if facts is not None else None,
        rulebook_name=rulebook[0] if rulebook else None,
        rulebook_version=rulebook[1] if rulebook else None,
        rulebook_sha256=rulebook[2] if rulebook else None,
        model_name=model[0] if model else None,
        model_version=model[1] if model else None,
        outcome=json.loads(texts["outcome"]),
        amount=None if amount is None else str(amount),
        reasons=json.loads(texts["reasons"]),
        previous_hash=claim.chain_head or GENESIS,
    )
    entry.record_hash = record_hash(entry, texts)
    claim.chain_seq, claim.chain_head = entry.seq, entry.record_hash
    key = session.info.get(KEY)
    claim.head_seal = head_seal(key, claim.id, entry.seq, entry.record_hash) if key else None
    session.add(entry)
    return entry


def by_person(
    session: Session,
    claim: Claim,
    who: Principal,
    *,
    kind: str,
    outcome: dict[str, Any],
    request_id: str | None,
    amount: Any = None,
    reasons: list[Any] | None = None,
    model: tuple[str, str] | None = None,
) -> DecisionRecord:
    """Append a decision a person made: the caller named as its actor."""
    return record(
        session,
        claim,
        kind=kind,
        actor_type="person",
        actor=who.name,
        outcome=outcome,
        amount=amount,
        reasons=reasons,
        model=model,
        request_id=request_id,
    )


@dataclass(frozen=True)
class Broken:
    """Where a claim's chain of records does not hold."""

    claim_number: str
    seq: int
    problem: str


def verify(session: Session, key: bytes | None = None) -> tuple[int, list[Broken]]:
    """Check every claim's chain: each record's hash and its link to the one before, and that
    the chain ends where the claim's head says (nothing cut off, nothing deleted).

    With the audit key, each head's seal must match too: a chain rewritten and re-hashed by
    someone without the key cannot carry one.
    """
    broken: list[Broken] = []
    count = 0
    heads = {
        cid: (number, seq, head, seal)
        for cid, number, seq, head, seal in session.execute(
            select(Claim.id, Claim.claim_number, Claim.chain_seq, Claim.chain_head, Claim.head_seal)
        )
    }
    numbers = {cid: number for cid, (number, *_) in heads.items()}
    rows = session.scalars(select(DecisionRecord).order_by(DecisionRecord.claim_id, DecisionRecord.seq))
    previous: dict[int, DecisionRecord] = {}
    for rec in rows:
        count += 1
        number = numbers.get(rec.claim_id, f"claim id {rec.claim_id}")
        before = previous.get(rec.claim_id)
        expected_seq = before.seq + 1 if before else 1
        if rec.seq != expected_seq:
            broken.append(Broken(number, rec.seq, f"sequence jumps from {expected_seq - 1} to {rec.seq}"))
        if rec.previous_hash != (before.record_hash if before else GENESIS):
            broken.append(Broken(number, rec.seq, "does not link to the record before it"))
        if rec.record_hash != record_hash(rec):
            broken.append(Broken(number, rec.seq, "content does not match its hash (altered)"))
        if rec.facts is not None and rec.facts_hash != sha256(canonical(rec.facts)):
            broken.append(Broken(number, rec.seq, "facts do not match their hash"))
        previous[rec.claim_id] = rec
    for cid, (number, seq, head, seal) in heads.items():
        last = previous.get(cid)
        if (last.seq if last else 0) != (seq or 0) or (last.record_hash if last else GENESIS) != head:
            kept = f"ends at record {last.seq}" if last else "has no records"
            broken.append(
                Broken(number, seq or 0, f"the chain {kept} but the claim's head is record {seq}: cut off")
            )
        if key is not None and (seq or 0) > 0 and seal != head_seal(key, cid, seq, head):
            problem = "has no seal" if seal is None else "does not match its seal (rewritten without the key)"
            broken.append(Broken(number, seq, f"the chain head {problem}"))
    return count, broken


def seal(session: Session, key: bytes) -> int:
    """Seal the heads of every unsealed chain, once the key is introduced; refuse if any is broken.

    Returns how many heads were sealed (the caller commits).
    """
    _, broken = verify(session)
    if broken:
        raise ValueError(f"{len(broken)} problem(s) in the chains: verify and mend them before sealing")
    unsealed = session.scalars(select(Claim).where(Claim.chain_seq > 0, Claim.head_seal.is_(None))).all()
    for claim in unsealed:
        claim.head_seal = head_seal(key, claim.id, claim.chain_seq, claim.chain_head)
    return len(unsealed)
