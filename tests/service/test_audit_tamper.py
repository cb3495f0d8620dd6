"""Tampering that a plain hash chain misses: a chain cut short, a chain deleted, a chain
rewritten and re-hashed. The claim's head catches the first two; its keyed seal the third."""

import pytest
from sqlalchemy import select, text

from service import audit
from service.models.claims import Claim, DecisionRecord

KEY = b"an audit key kept outside the database, 32+ bytes"


def _no_triggers(session, backend: str) -> None:
    # A database administrator goes around the service and the append-only triggers.
    if backend == "sqlite":
        session.execute(text("DROP TRIGGER decision_records_no_update"))
        session.execute(text("DROP TRIGGER decision_records_no_delete"))
    else:
        session.execute(text("ALTER TABLE decision_records DISABLE TRIGGER decision_records_append_only"))


def _problems(session, number: str, key: bytes | None = None) -> list[str]:
    session.expire_all()
    return [b.problem for b in audit.verify(session, key)[1] if b.claim_number == number]


def _rewrite_the_decision(session, backend: str, number: str) -> tuple[Claim, str]:
    """Raise the approved amount and re-hash it and every record after it: a consistent chain.

    Returns the claim row and the new head hash (the claim's head is left for the caller)."""
    row = session.scalar(select(Claim).where(Claim.claim_number == number))
    records = list(
        session.scalars(
            select(DecisionRecord).where(DecisionRecord.claim_id == row.id).order_by(DecisionRecord.seq)
        )
    )
    for record in records:
        session.expunge(record)
    previous = records[0].previous_hash
    for record in records:
        if record.kind == "decision":
            record.amount = "99999.00"
        record.previous_hash = previous
        record.record_hash = previous = audit.record_hash(record)
    _no_triggers(session, backend)
    for record in records:
        session.execute(
            text(
                "UPDATE decision_records SET amount = :a, previous_hash = :p, record_hash = :h WHERE id = :i"
            ),
            {"a": record.amount, "p": record.previous_hash, "h": record.record_hash, "i": record.id},
        )
    return row, previous


@pytest.fixture
def keyed(client, monkeypatch):
    """Units of work of the app that hold the audit key, as with CLAIMS_AUDIT_KEY set."""
    monkeypatch.setitem(client.app.state.runtime.sessions.kw["info"], audit.KEY, KEY)
    return client


def test_a_chain_cut_short_is_caught(flow, client, backend):
    claim = flow.send_documents(flow.report())
    with client.app.state.runtime.sessions() as session:
        assert _problems(session, claim["claim_number"]) == []
        _no_triggers(session, backend)
        session.execute(
            text(
                "DELETE FROM decision_records WHERE seq = (SELECT max(seq) FROM decision_records d "
                "WHERE d.claim_id = decision_records.claim_id) AND claim_id = "
                "(SELECT id FROM claims WHERE claim_number = :n)"
            ),
            {"n": claim["claim_number"]},
        )
        problems = _problems(session, claim["claim_number"])
        session.rollback()
    assert len(problems) == 1 and "cut off" in problems[0]


def test_a_deleted_chain_is_caught(flow, client, backend):
    claim = flow.report()
    with client.app.state.runtime.sessions() as session:
        _no_triggers(session, backend)
        session.execute(
            text(
                "DELETE FROM decision_records "
                "WHERE claim_id = (SELECT id FROM claims WHERE claim_number = :n)"
            ),
            {"n": claim["claim_number"]},
        )
        problems = _problems(session, claim["claim_number"])
        session.rollback()
    # reported, adjudication and the acknowledgement's message: the head is record 3
    assert problems == [f"the chain has no records but the claim's head is record {3}: cut off"]


def test_a_chain_rewritten_and_rehashed_is_caught_by_its_seal(flow, keyed, backend):
    claim = flow.approved_claim()
    with keyed.app.state.runtime.sessions() as session:
        assert _problems(session, claim["claim_number"], KEY) == []
        row, previous = _rewrite_the_decision(session, backend, claim["claim_number"])
        session.execute(text("UPDATE claims SET chain_head = :h WHERE id = :i"), {"h": previous, "i": row.id})
        without_key = _problems(session, claim["claim_number"])
        with_key = _problems(session, claim["claim_number"], KEY)
        session.rollback()
    assert without_key == []  # an unkeyed chain cannot tell: this is why the head is sealed
    assert with_key == ["the chain head does not match its seal (rewritten without the key)"]


def test_heads_made_before_the_key_are_named_until_sealed(flow, client):
    claim = flow.report()
    with client.app.state.runtime.sessions() as session:
        assert _problems(session, claim["claim_number"], KEY) == ["the chain head has no seal"]
        assert audit.seal(session, KEY) >= 1
        session.flush()
        assert _problems(session, claim["claim_number"], KEY) == []
        session.rollback()


# Checkpoints of the chain heads, kept outside the database, anchor what the head and seal cannot:
# the claim row itself deleted or rewound, or a rewrite by someone who holds the key.


def _anchored(session, checkpoint, number: str, key: bytes | None = None) -> list[str]:
    from service import checkpoints

    session.expire_all()
    return [b.problem for b in checkpoints.check(session, checkpoint, key) if b.claim_number == number]


def test_a_claim_deleted_with_its_whole_chain_is_caught_by_a_checkpoint(flow, client, backend):
    from service import checkpoints

    claim = flow.send_documents(flow.report())
    number = claim["claim_number"]
    with client.app.state.runtime.sessions() as session:
        checkpoint = checkpoints.take(session, KEY)
        assert checkpoint["heads"][number][0] >= 2 and _anchored(session, checkpoint, number, KEY) == []
        _no_triggers(session, backend)
        cid = session.scalar(select(Claim.id).where(Claim.claim_number == number))
        for table in (
            "decision_records",
            "claim_events",
            "documents",
            "reviews",
            "payments",
            "investigations",
            "messages",
            "jobs",
            "surveys",
            "rectifications",
            "complaints",
        ):
            session.execute(text(f"DELETE FROM {table} WHERE claim_id = :c"), {"c": cid})
        session.execute(text("DELETE FROM claims WHERE id = :c"), {"c": cid})
        session.expire_all()
        left_alone = [b for b in audit.verify(session, KEY)[1] if b.claim_number == number]
        problems = _anchored(session, checkpoint, number, KEY)
        session.rollback()
    assert left_alone == []  # nothing of the claim is left for the chain check to find
    assert len(problems) == 1 and problems[0].startswith("the claim is gone")


def test_a_chain_cut_back_with_its_head_rewound_is_caught_by_a_checkpoint(flow, client, backend):
    from service import checkpoints

    claim = flow.approved_claim()
    number = claim["claim_number"]
    with client.app.state.runtime.sessions() as session:
        checkpoint = checkpoints.take(session, None)
        row = session.scalar(select(Claim).where(Claim.claim_number == number))
        last = row.chain_seq
        before = session.scalar(
            select(DecisionRecord).where(DecisionRecord.claim_id == row.id, DecisionRecord.seq == last - 1)
        )
        _no_triggers(session, backend)
        # The decision is removed and the head put back on the record before it: a consistent chain.
        session.execute(
            text("DELETE FROM decision_records WHERE claim_id = :c AND seq = :s"), {"c": row.id, "s": last}
        )
        session.execute(
            text("UPDATE claims SET chain_seq = :s, chain_head = :h WHERE id = :c"),
            {"s": last - 1, "h": before.record_hash, "c": row.id},
        )
        chains = _problems(session, number)
        problems = _anchored(session, checkpoint, number)
        session.rollback()
    assert chains == []  # unkeyed, the rewound chain holds together
    assert problems == [f"the chain is shorter than at {checkpoint['taken_at']} ({last - 1} < {last})"]


def test_a_rewrite_by_someone_holding_the_key_is_caught_by_an_earlier_checkpoint(flow, keyed, backend):
    from service import checkpoints

    claim = flow.approved_claim()
    number = claim["claim_number"]
    with keyed.app.state.runtime.sessions() as session:
        checkpoint = checkpoints.take(session, KEY)
        row, previous = _rewrite_the_decision(session, backend, number)
        last = row.chain_seq
        resealed = audit.head_seal(KEY, row.id, last, previous)
        session.execute(
            text("UPDATE claims SET chain_head = :h, head_seal = :s WHERE id = :i"),
            {"h": previous, "s": resealed, "i": row.id},
        )
        with_key = _problems(session, number, KEY)
        problems = _anchored(session, checkpoint, number, KEY)
        session.rollback()
    assert with_key == []  # the key was used to re-seal: only an outside anchor can tell
    assert problems == [f"record {last} differs from the one checkpointed at {checkpoint['taken_at']}"]


def test_an_altered_checkpoint_is_refused(flow, client):
    from service import checkpoints

    flow.report()
    with client.app.state.runtime.sessions() as session:
        checkpoint = checkpoints.take(session, KEY)
        forged = {**checkpoint, "heads": {**checkpoint["heads"], "CLM-FORGED": [1, "0" * 64]}}
        with pytest.raises(checkpoints.Unreadable, match="signature"):
            checkpoints.check(session, forged, KEY)
        with pytest.raises(checkpoints.Unreadable, match="not a checkpoint"):
            checkpoints.check(session, {"heads": {}}, KEY)
        with pytest.raises(checkpoints.Unreadable, match="set CLAIMS_AUDIT_KEY"):
            checkpoints.check(session, checkpoint, None)  # signed, but nothing to check it with
        with pytest.raises(checkpoints.Unreadable, match="unsigned"):
            checkpoints.check(session, checkpoints.take(session, None), KEY)
        assert checkpoints.check(session, checkpoint, KEY) == []
        session.rollback()
