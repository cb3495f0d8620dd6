"""Checkpoints of every chain head, kept outside the database.

A checkpoint lists each claim's chain head (sequence and hash) at a moment, signed with the
audit key. Kept by a second system (a file store, a log shipper, a ticket), it anchors the
chains: a claim deleted together with its whole chain, a chain cut back and its head rewound,
or records rewritten by someone holding the key all disagree with an earlier checkpoint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from service.audit import Broken, canonical
from service.models.claims import Claim, DecisionRecord

FORMAT = "claims-audit-checkpoint/1"


def _signature(key: bytes, body: dict[str, Any]) -> str:
    return hmac.new(key, canonical(body).encode(), hashlib.sha256).hexdigest()


def take(session: Session, key: bytes | None) -> dict[str, Any]:
    """Return a checkpoint of every claim's chain head now (signed when a key is given)."""
    heads = {
        number: [seq, head]
        for number, seq, head in session.execute(
            select(Claim.claim_number, Claim.chain_seq, Claim.chain_head)
            .where(Claim.chain_seq > 0)
            .order_by(Claim.claim_number)
        )
    }
    body: dict[str, Any] = {
        "format": FORMAT,
        "taken_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "claims": len(heads),
        "records": sum(seq for seq, _ in heads.values()),
        "heads": heads,
    }
    return {**body, "signature": _signature(key, body) if key else None}


class Unreadable(ValueError):
    """The checkpoint is not one this service wrote, or its signature does not hold."""


def check(session: Session, checkpoint: Any, key: bytes | None) -> list[Broken]:
    """Every way the stored chains disagree with an earlier checkpoint.

    Each claim it lists must still exist, its chain must be at least as long, and the record at
    the checkpointed sequence must still carry the checkpointed hash.
    """
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise Unreadable(f"not a checkpoint (expected format {FORMAT})")
    body = {k: v for k, v in checkpoint.items() if k != "signature"}
    if not isinstance(body.get("heads"), dict):
        raise Unreadable("the checkpoint has no heads")
    signature = checkpoint.get("signature")
    if key is None and signature:
        # Unchecked, an edited file would be read as the database's fault.
        raise Unreadable("the checkpoint is signed: set CLAIMS_AUDIT_KEY to check its signature")
    if key is not None and not signature:
        raise Unreadable("the checkpoint is unsigned (taken without CLAIMS_AUDIT_KEY): take a signed one")
    if key is not None and not hmac.compare_digest(str(signature), _signature(key, body)):
        raise Unreadable("the checkpoint's signature does not match the audit key: altered, or another key")
    taken = body.get("taken_at", "?")
    stored = {
        number: (cid, seq)
        for cid, number, seq in session.execute(select(Claim.id, Claim.claim_number, Claim.chain_seq))
    }
    wanted = {}
    broken: list[Broken] = []
    for number, (seq, head) in body["heads"].items():
        if number not in stored:
            broken.append(Broken(number, seq, f"the claim is gone (it had {seq} records at {taken})"))
        elif (now := stored[number][1] or 0) < seq:
            broken.append(Broken(number, seq, f"the chain is shorter than at {taken} ({now} < {seq})"))
        else:
            wanted[(stored[number][0], seq)] = (number, head)
    # Only the checkpointed record of each claim is read, not its whole chain.
    found = {}
    pairs = sorted(wanted)
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        for cid, seq, record_hash in session.execute(
            select(DecisionRecord.claim_id, DecisionRecord.seq, DecisionRecord.record_hash).where(
                tuple_(DecisionRecord.claim_id, DecisionRecord.seq).in_(chunk)
            )
        ):
            found[(cid, seq)] = record_hash
    for (cid, seq), (number, head) in wanted.items():
        if found.get((cid, seq)) != head:
            broken.append(Broken(number, seq, f"record {seq} differs from the one checkpointed at {taken}"))
    return broken
