"""A first notice of loss is written in one go, outside the unit of work: it answers what it stored."""

import datetime as dt

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from service.database import Base, insert_built, session_factory
from service.models.claims import Claim, ClaimEvent
from tests.service.test_investigations import _high_risk


def _stored(flow, claim: dict) -> dict:
    return flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")


def test_the_intake_answer_is_what_a_later_read_shows(flow):
    today = dt.date.today()
    claims = {
        "plain": flow.report(),
        "reported late": flow.report(
            incident_at=dt.datetime.combine(today - dt.timedelta(days=5), dt.time(14)).isoformat(),
            report_date=(today - dt.timedelta(days=3)).isoformat(),
        ),
        "held for investigation": _high_risk(flow),
    }
    assert claims["held for investigation"]["investigation"]["id"] is not None
    for what, claim in claims.items():
        assert _stored(flow, claim) == claim, what


def test_its_records_chain_and_it_takes_the_next_steps(flow, client):
    claim = flow.send_documents(flow.report())
    assert claim["status"] == "under_review" and claim["paid_amount"] == "0.00"
    history = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
    assert [r["seq"] for r in history][:2] == [1, 2]
    assert [r["kind"] for r in history][:2] == ["reported", "adjudication"]


@pytest.fixture
def memory_session():
    engine = create_engine("sqlite://")  # foreign keys not enforced: events without their claim
    Base.metadata.create_all(engine)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def _event(claim_id: int, **extra) -> ClaimEvent:
    return ClaimEvent(
        claim_id=claim_id, kind="status", old=None, new="reported", at=dt.datetime.now(dt.UTC), **extra
    )


def test_built_objects_get_their_ids_and_leave_the_session(memory_session: Session):
    events = [_event(1, why=None), _event(1, why="a reason")]
    memory_session.add(events[0])
    insert_built(memory_session, events)
    assert [e.id for e in events] == [1, 2]
    assert not memory_session.new  # nothing is written twice at the commit
    memory_session.commit()
    stored = memory_session.scalars(select(ClaimEvent.why).order_by(ClaimEvent.id)).all()
    assert stored == [None, "a reason"]
    assert memory_session.scalar(select(Claim.id)) is None


def test_built_objects_of_one_class_must_set_the_same_attributes(memory_session: Session):
    with pytest.raises(ValueError, match="ClaimEvent objects set different attributes"):
        insert_built(memory_session, [_event(1), _event(1, why="only this one says why")])
