"""Tampering that a plain hash chain misses: a chain cut short, a chain deleted, a chain
rewritten and re-hashed. The claim's head catches the first two; its keyed seal the third."""

import pytest
from sqlalchemy import select, text

from service import audit
from service.claims.models import Claim, DecisionRecord

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
    assert problems == [f"the chain has no records but the claim's head is record {2}: cut off"]


def test_a_chain_rewritten_and_rehashed_is_caught_by_its_seal(flow, keyed, backend):
    claim = flow.approved_claim()
    with keyed.app.state.runtime.sessions() as session:
        assert _problems(session, claim["claim_number"], KEY) == []
        row = session.scalar(select(Claim).where(Claim.claim_number == claim["claim_number"]))
        records = list(
            session.scalars(
                select(DecisionRecord).where(DecisionRecord.claim_id == row.id).order_by(DecisionRecord.seq)
            )
        )
        for record in records:
            session.expunge(record)
        # Raise the approved amount and re-hash it and every record after it: a consistent chain.
        previous = records[0].previous_hash
        for record in records:
            if record.kind == "decision":
                record.amount = "99999.00"
            record.previous_hash = previous
            record.record_hash = audit.record_hash(record)
            previous = record.record_hash
        _no_triggers(session, backend)
        for record in records:
            session.execute(
                text(
                    "UPDATE decision_records SET amount = :a, previous_hash = :p, record_hash = :h "
                    "WHERE id = :i"
                ),
                {"a": record.amount, "p": record.previous_hash, "h": record.record_hash, "i": record.id},
            )
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
