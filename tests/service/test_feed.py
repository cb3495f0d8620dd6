"""The change feed: every claim event in commit order, none missed and none twice, also while
several writers commit at once; and GET /v1/claims?updated_since=."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from service.models.claims import ClaimEvent
from service.models.feed import FeedHead
from tests.service.conftest import Flow, claim_body, headers


def _tail(client, after: int = 0, **params) -> dict:
    response = client.get("/v1/events", params={"after": after, **params}, headers=headers("claims_system"))
    assert response.status_code == 200, response.text
    return response.json()


def _head(client) -> int:
    page = _tail(client, 0, limit=1)
    while page["more"]:
        page = _tail(client, page["next_cursor"], limit=1000)
    return page["next_cursor"]


def test_a_new_claims_events_come_in_order_after_the_cursor(client, flow):
    start = _head(client)
    claim = flow.report()
    page = _tail(client, start)
    mine = [e for e in page["events"] if e["claim_number"] == claim["claim_number"]]
    assert [e["kind"] for e in mine][:1] == ["status"] and mine[0]["new"] == "reported"
    assert [e["new"] for e in mine if e["kind"] == "status"][-1] == claim["status"]
    positions = [e["position"] for e in page["events"]]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert page["next_cursor"] == positions[-1] and page["more"] is False
    # Asked again from the cursor it gave: nothing new, the same cursor.
    again = _tail(client, page["next_cursor"])
    assert again == {"events": [], "next_cursor": page["next_cursor"], "more": False}


def test_the_feed_pages_and_filters_by_kind(client, flow):
    start = _head(client)
    flow.report()
    flow.report()
    everything = _tail(client, start)["events"]
    first = _tail(client, start, limit=1)
    assert first["events"] == everything[:1] and first["more"] is True
    routes = _tail(client, start, kind="route")
    assert routes["events"] == [e for e in everything if e["kind"] == "route"]
    assert routes["next_cursor"] == everything[-1]["position"]  # past what it did not want too


def test_bad_feed_requests_are_problems(client, flow):
    for params in ({"after": -1}, {"limit": 0}, {"limit": 1001}, {"kind": "nonsense"}):
        response = client.get("/v1/events", params=params, headers=headers("claims_system"))
        assert response.status_code == 422, params
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/v1/events").status_code == 401


def test_updated_since_lists_the_claims_changed_since_then(client, flow):
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
    old = flow.report()
    new = flow.report()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)

    def listed(since: dt.datetime) -> list[str]:
        page = flow.call(
            "claims_system", "GET", f"/v1/claims?updated_since={quote(since.isoformat())}&limit=200"
        )
        return [c["claim_number"] for c in page["items"]]

    got = listed(before)
    assert got.index(old["claim_number"]) < got.index(new["claim_number"])  # least recently changed first
    assert listed(later) == []
    naive = before.replace(tzinfo=None).isoformat()  # no zone: UTC
    assert old["claim_number"] in [
        c["claim_number"]
        for c in flow.call("claims_system", "GET", f"/v1/claims?updated_since={naive}&limit=200")["items"]
    ]
    problem = flow.call("claims_system", "GET", "/v1/claims?updated_since=yesterday", expect=422)
    assert "updated_since" in str(problem)


def test_positions_follow_commit_order_not_id_order(committed_client):
    """A transaction that drew its event's id first but commits last is numbered last: a reader
    that has seen a position has seen everything before it."""
    runtime = committed_client.app.state.runtime
    if runtime.db.dialect.name == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: its id order is its commit order")
    flow = Flow(committed_client)
    claim_id = int(flow.report()["claim_number"].rsplit("-", 1)[1])
    now = dt.datetime.now(dt.UTC)
    first, second = runtime.sessions(), runtime.sessions()
    try:
        early = ClaimEvent(claim_id=claim_id, kind="assign", old=None, new="a/b", why="first id", at=now)
        first.add(early)
        first.flush()  # id drawn, not committed
        late = ClaimEvent(claim_id=claim_id, kind="assign", old=None, new="c/d", why="second id", at=now)
        second.add(late)
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert early.id < late.id
    with runtime.readers() as reader:
        positions = dict(
            reader.execute(
                select(ClaimEvent.id, ClaimEvent.position).where(ClaimEvent.id.in_((early.id, late.id)))
            ).all()
        )
    assert positions[late.id] < positions[early.id]


def test_a_reader_tailing_eight_writers_misses_nothing_and_repeats_nothing(committed_client):
    """Eight writers report and move claims while a reader follows the feed; afterwards the reader
    holds exactly the events stored, each once, in feed order."""
    flow = Flow(committed_client)
    runtime = committed_client.app.state.runtime
    policies = [flow.policy() for _ in range(8)]
    start = _head(committed_client)
    done = threading.Event()
    seen: list[dict] = []

    def write(policy: str) -> None:
        for _ in range(4):
            response = committed_client.post(
                "/v1/claims", json=claim_body(policy), headers=headers("claims_system")
            )
            assert response.status_code == 201, response.text
            number = response.json()["claim_number"]
            moved = committed_client.post(
                f"/v1/claims/{number}/withdraw",
                json={"reason": "reported twice"},
                headers=headers("claims_system"),
            )
            assert moved.status_code == 200, moved.text

    def read() -> None:
        cursor = start
        while True:
            finished = done.is_set()  # read once more after the writers stop
            page = _tail(committed_client, cursor, limit=7)
            seen.extend(page["events"])
            cursor = page["next_cursor"]
            if finished and not page["more"]:
                return

    reader = threading.Thread(target=read)
    reader.start()
    with ThreadPoolExecutor(max_workers=8) as pool:
        for result in [pool.submit(write, p) for p in policies]:
            result.result()
    done.set()
    reader.join(timeout=120)
    assert not reader.is_alive()
    with runtime.readers() as session:
        stored = session.execute(
            select(ClaimEvent.id, ClaimEvent.position)
            .where(ClaimEvent.position > start)
            .order_by(ClaimEvent.position)
        ).all()
    ids = [e["id"] for e in seen]
    assert len(ids) == len(set(ids)), "an event was read twice"
    assert ids == [row.id for row in stored], "the reader missed an event or read them out of order"
    assert len(ids) >= 8 * 4 * 3
    assert [row.position for row in stored] == list(range(start + 1, start + 1 + len(stored)))


def _claim_events(client) -> tuple[Any, int, Callable[[str], ClaimEvent]]:
    """The app's runtime, a new claim's id, and a maker of that claim's events (each with its reason)."""
    runtime = client.app.state.runtime
    claim_id = int(Flow(client).report()["claim_number"].rsplit("-", 1)[1])
    now = dt.datetime.now(dt.UTC)

    def made(why: str) -> ClaimEvent:
        return ClaimEvent(claim_id=claim_id, kind="assign", old=None, new="a/b", why=why, at=now)

    return runtime, claim_id, made


def _positions(runtime, claim_id: int) -> tuple[dict[str, int | None], int]:
    """Each of the claim's events' position by its reason, and the feed's head."""
    with runtime.readers() as reader:
        rows = reader.execute(
            select(ClaimEvent.why, ClaimEvent.position).where(ClaimEvent.claim_id == claim_id)
        ).all()
        return dict(rows), reader.scalar(select(FeedHead.position))


def test_an_event_a_rolled_back_savepoint_took_away_leaves_no_gap(committed_client):
    """Events flushed inside a savepoint that rolls back are not numbered: positions stay contiguous."""
    runtime, claim_id, made = _claim_events(committed_client)
    with runtime.sessions() as session:
        session.add(made("kept"))
        session.flush()
        savepoint = session.begin_nested()
        session.add(made("taken away"))
        session.flush()
        savepoint.rollback()
        session.add(made("kept too"))
        session.commit()
    positions, head = _positions(runtime, claim_id)
    assert "taken away" not in positions
    assert positions["kept too"] == positions["kept"] + 1 == head
    assert sorted(p for p in positions.values()) == list(range(min(positions.values()), head + 1))


def test_events_kept_by_a_released_savepoint_are_numbered_at_the_commit(committed_client):
    """A savepoint released inside one rolled back: the events before both still get positions."""
    runtime, claim_id, made = _claim_events(committed_client)
    with runtime.sessions() as session:
        session.add(made("before both"))
        session.flush()
        outer = session.begin_nested()
        session.begin_nested().commit()  # released: its parent decides
        session.add(made("in the outer savepoint"))
        session.flush()
        outer.rollback()
        session.commit()
    rows, head = _positions(runtime, claim_id)
    assert "in the outer savepoint" not in rows
    assert rows["before both"] == head  # numbered, last
