"""Decision records: append-only, hash-chained, verifiable and replayable."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from service import audit
from service.adjudication import replay
from service.cli import app as cli
from service.models.claims import Claim, DecisionRecord


def _records(client, number):
    with client.app.state.runtime.sessions() as session:
        claim = session.scalar(select(Claim).where(Claim.claim_number == number))
        return (
            session,
            claim,
            list(
                session.scalars(
                    select(DecisionRecord)
                    .where(DecisionRecord.claim_id == claim.id)
                    .order_by(DecisionRecord.seq)
                )
            ),
        )


def test_a_replayed_decision_equals_its_record(flow, client):
    claim = flow.send_documents(
        flow.report(claimed_amount="25000.00", third_party=True, facts={"fault_share": "equal"})
    )
    with client.app.state.runtime.sessions() as session:
        claim_row = session.scalar(select(Claim).where(Claim.claim_number == claim["claim_number"]))
        records = session.scalars(
            select(DecisionRecord)
            .where(DecisionRecord.claim_id == claim_row.id, DecisionRecord.kind == "adjudication")
            .order_by(DecisionRecord.seq)
        ).all()
        assert len(records) == 2
        for record in records:
            replayed = replay(session, record)
            assert replayed == {k: record.outcome[k] for k in replayed}
        assert records[-1].outcome["coverage"] == "partially_covered"


def test_records_cannot_be_updated_or_deleted(flow, client):
    claim = flow.report()
    with client.app.state.runtime.sessions() as session:
        record = session.scalars(select(DecisionRecord).where(DecisionRecord.kind == "reported")).first()
        record.actor = "someone else"
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()
        session.rollback()
    with client.app.state.runtime.sessions() as session:
        for statement in ("UPDATE decision_records SET actor = 'x'", "DELETE FROM decision_records"):
            with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
                session.execute(text(statement))
    assert claim["claim_number"]


def test_verify_proves_the_chain_and_catches_a_tampered_record(flow, client, backend):
    claim = flow.approved_claim()
    with client.app.state.runtime.sessions() as session:
        count, broken = audit.verify(session)
        assert count >= 8 and broken == []
        # A database administrator goes around the service and the trigger.
        if backend == "sqlite":
            session.execute(text("DROP TRIGGER decision_records_no_update"))
        else:
            session.execute(text("ALTER TABLE decision_records DISABLE TRIGGER decision_records_append_only"))
        session.execute(
            text(
                "UPDATE decision_records SET amount = '99999.00' WHERE kind = 'decision' AND claim_id = "
                "(SELECT id FROM claims WHERE claim_number = :n)"
            ),
            {"n": claim["claim_number"]},
        )
        session.expire_all()
        _, broken = audit.verify(session)
        assert [(b.claim_number, b.problem) for b in broken] == [
            (claim["claim_number"], "content does not match its hash (altered)")
        ]
        session.rollback()  # the test transaction restores the trigger and the record


def test_audit_verify_command(tmp_path, monkeypatch):
    from service.database import make_engine
    from service.db import upgrade

    url = f"sqlite:///{tmp_path / 'claims.db'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("DATABASE_URL", url)
    from service.config import get_settings

    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "0 decision records verified" in result.output


def test_checkpoint_then_verify_against_it(tmp_path, monkeypatch, scorer):
    from fastapi.testclient import TestClient

    from service.config import get_settings
    from service.database import make_engine
    from service.db import upgrade
    from service.main import create_app
    from tests.service.conftest import Flow, make_settings

    url = f"sqlite:///{tmp_path / 'claims.db'}"
    upgrade(make_engine(url))
    with TestClient(create_app(make_settings(url, tmp_path), scorer=scorer)) as client:
        Flow(client).approved_claim()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CLAIMS_AUDIT_KEY", "k" * 40)
    get_settings.cache_clear()
    anchor = tmp_path / "heads.json"
    try:
        # The key arrives after the claim was made: its head is sealed first, then checkpointed.
        assert CliRunner().invoke(cli, ["audit", "seal"]).exit_code == 0
        taken = CliRunner().invoke(cli, ["audit", "checkpoint", "--out", str(anchor)])
        agreed = CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(anchor)])
        anchor.write_text(anchor.read_text().replace('"claims": 1', '"claims": 2'))
        forged = CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(anchor)])
        missing = CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(tmp_path / "nope.json")])
        monkeypatch.delenv("CLAIMS_AUDIT_KEY")
        get_settings.cache_clear()
        unkeyed = CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(anchor)])
        monkeypatch.setenv("CLAIMS_AUDIT_KEY", "short")
        get_settings.cache_clear()
        short = CliRunner().invoke(cli, ["audit", "verify"])
    finally:
        get_settings.cache_clear()
    assert taken.exit_code == 0 and "checkpoint of 1 chain heads" in taken.output, taken.output
    assert agreed.exit_code == 0 and "agreeing with 1 checkpoint(s)" in agreed.output, agreed.output
    assert forged.exit_code == 2 and "signature does not match" in forged.output, forged.output
    assert missing.exit_code == 2 and "cannot read checkpoint" in missing.output
    assert unkeyed.exit_code == 2 and "set CLAIMS_AUDIT_KEY to check its signature" in unkeyed.output
    assert short.exit_code == 2 and "at least 32 characters" in short.output, short.output
    assert "Traceback" not in forged.output + missing.output + unkeyed.output + short.output


def test_the_fast_field_text_is_exactly_the_canonical_json():
    # Records hashed before the fast path must still verify: the texts have to be identical.
    import random

    from service.audit import _field_text, canonical

    rng = random.Random(4)
    alphabet = 'ab"\\/\n\t\x00\x1f\u2028\u4e2d\U0001f600 '
    strings = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(12))) for _ in range(500)]
    for value in [None, True, False, 0, -7, 2**70, 1.25, {"b": 1, "a": [2]}, *strings]:
        assert _field_text(value) == canonical(value), repr(value)


def test_audit_commands_on_a_database_they_cannot_use_say_so_in_one_line(tmp_path, monkeypatch):
    from service.config import get_settings

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    monkeypatch.setenv("CLAIMS_AUDIT_KEY", "k" * 40)
    get_settings.cache_clear()
    try:
        results = [
            CliRunner().invoke(cli, ["audit", command]) for command in ("verify", "checkpoint", "seal")
        ]
    finally:
        get_settings.cache_clear()
    for result in results:
        assert result.exit_code == 2 and "run `claims db upgrade`" in result.output, result.output
        assert "Traceback" not in result.output
