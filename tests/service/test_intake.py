"""A first notice of loss is written in one go, outside the unit of work: it answers what it stored."""

import datetime as dt
import threading

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from service.database import Base, insert_built, make_engine, session_factory
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


class _Local(DeclarativeBase):
    pass


class _Note(_Local):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str]


def test_on_sqlite_built_objects_take_the_next_ids_of_a_writing_transaction(tmp_path):
    """Ids are read and given under SQLite's write lock: writers in turn never give one twice."""
    engine = make_engine(f"sqlite:///{tmp_path / 'ids.db'}")
    _Local.metadata.create_all(engine)
    with engine.begin() as connection:  # a row written the ordinary way: the next ids follow it
        connection.execute(_Note.__table__.insert(), {"id": 7, "text": "stored"})
    sessions = session_factory(engine)
    given: list[list[int]] = []

    def writer(who: int) -> None:
        for n in range(15):
            notes = [_Note(text=f"{who}.{n}.{k}") for k in range(3)]
            with sessions() as session:
                insert_built(session, notes)
                session.commit()
            given.append([note.id for note in notes])

    threads = [threading.Thread(target=writer, args=(who,)) for who in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(ids == list(range(ids[0], ids[0] + 3)) for ids in given)  # consecutive within a write
    flat = sorted(i for ids in given for i in ids)
    assert flat == list(range(8, 8 + 4 * 15 * 3))  # after the stored one, none twice, none skipped
    with sessions() as session:
        texts = dict(session.execute(select(_Note.id, _Note.text)).all())
    assert len(texts) == 1 + 4 * 15 * 3
    readers = session_factory(engine, readonly=True)
    with readers() as reader, pytest.raises(RuntimeError, match="needs a writing transaction"):
        insert_built(reader, [_Note(text="never")])
    engine.dispose()
