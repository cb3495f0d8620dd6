"""Webhooks: signed deliveries of the change feed to a real local HTTP receiver, retried with
backoff while the receiver is down or failing, nothing lost and each claim's events in order."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from service import signing
from service.feed import webhooks
from service.outbox import worker
from tests.service.conftest import Flow, headers


class Receiver:
    """A real HTTP server on a fixed local port that checks each delivery's signature, answering
    `status`; it can be stopped (connections refused) and started again on the same port."""

    def __init__(self) -> None:
        self.secret = b""
        self.status = 200
        self.deliveries: list[dict] = []
        self.refused: list[str] = []
        self.server: http.server.ThreadingHTTPServer | None = None
        self.port = 0
        self.start()

    def start(self) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    signing.verify(owner.secret, self.headers.get(signing.SIGNATURE), body)
                except signing.BadSignature as exc:
                    owner.refused.append(str(exc))
                    self.send_response(401)
                    self.end_headers()
                    return
                owner.deliveries.append(json.loads(body))
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def events(self) -> list[dict]:
        return [event for delivery in self.deliveries for event in delivery["events"]]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()
    yield got
    got.stop()


@pytest.fixture
def post() -> Iterator[webhooks.Post]:
    with httpx.Client() as client:
        yield webhooks.poster(client)


def _subscribe(flow: Flow, receiver: Receiver, **extra) -> dict:
    hook = flow.call("admin", "POST", "/v1/webhooks", {"url": receiver.url, **extra}, expect=201)
    receiver.secret = hook["secret"].encode()
    return hook


def _deliver(runtime, post, now: dt.datetime | None = None) -> int:
    return webhooks.deliver_due(runtime.sessions, runtime.readers, post, now)


def _feed_after(flow: Flow, cursor: int) -> list[dict]:
    events, more = [], True
    while more:
        page = flow.call("claims_system", "GET", f"/v1/events?after={cursor}&limit=1000")
        events += page["events"]
        cursor, more = page["next_cursor"], page["more"]
    return events


def test_subscriptions_are_for_admins_and_checked(client, flow, receiver):
    assert flow.call("claims_system", "POST", "/v1/webhooks", {"url": receiver.url}, expect=403)
    for body, field in (
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": receiver.url, "kinds": ["status", "gossip"]}, "kinds"),
        ({"url": receiver.url, "secret": "mine"}, "secret"),
    ):
        problem = flow.call("admin", "POST", "/v1/webhooks", body, expect=422)
        assert field in json.dumps(problem), problem
    hook = _subscribe(flow, receiver, kinds=["status"], description="core system")
    assert hook["secret"].startswith("whsec_") and hook["backlog"] == 0
    listed = flow.call("admin", "GET", "/v1/webhooks")
    assert [h["id"] for h in listed] == [hook["id"]] and "secret" not in listed[0]
    assert "secret" not in flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}")
    assert flow.call("admin", "GET", "/v1/webhooks/999999", expect=404)["field"] == "webhook_id"
    assert flow.call("specialist", "GET", "/v1/webhooks", expect=403)


def test_events_arrive_signed_with_ids_in_order(client, flow, receiver, post):
    runtime = client.app.state.runtime
    hook = _subscribe(flow, receiver)
    claims = [flow.report()["claim_number"] for _ in range(3)]
    assert flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}")["backlog"] > 0
    sent = _deliver(runtime, post)
    got = receiver.events()
    assert sent == len(got) > 0 and not receiver.refused
    assert got == _feed_after(flow, hook["position"])
    assert {e["claim_number"] for e in got} == set(claims)
    assert [e["position"] for e in got] == sorted(e["position"] for e in got)
    state = flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}")
    assert state["backlog"] == 0 and state["failures"] == 0 and state["delivered_at"]
    log = flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}/deliveries")
    assert log[0]["status_code"] == 200 and log[0]["events"] == len(got) and log[0]["attempt"] == 1
    assert _deliver(runtime, post) == 0  # nothing new: nothing sent again


def test_a_receiver_down_for_a_while_loses_nothing(client, flow, receiver, post):
    runtime = client.app.state.runtime
    hook = _subscribe(flow, receiver)
    first = flow.report()
    _deliver(runtime, post)
    receiver.stop()  # down: connections refused
    later = [flow.report() for _ in range(2)]
    flow.call("claims_system", "POST", f"/v1/claims/{first['claim_number']}/withdraw")
    assert _deliver(runtime, post) == 0
    state = flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}")
    assert state["failures"] == 1 and "ConnectError" in state["last_error"] and state["backlog"] > 0
    metrics = client.get("/metrics", headers=headers("risk_team")).text
    assert f'claims_webhook_failures{{webhook="{hook["id"]}"}} 1.0' in metrics
    assert f'claims_webhook_backlog_events{{webhook="{hook["id"]}"}} {float(state["backlog"])}' in metrics
    assert _deliver(runtime, post) == 0  # within its backoff: not tried again yet
    assert len(flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}/deliveries")) == 2
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
    assert _deliver(runtime, post, soon) == 0
    assert flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}")["failures"] == 2

    receiver.start()  # back on the same port
    assert _deliver(runtime, post, soon + dt.timedelta(minutes=10)) > 0
    got = receiver.events()
    assert [e["id"] for e in got] == [e["id"] for e in _feed_after(flow, hook["position"])]
    assert {e["claim_number"] for e in got} == {first["claim_number"], *(c["claim_number"] for c in later)}
    mine = [e for e in got if e["claim_number"] == first["claim_number"]]
    statuses = [e["new"] for e in mine if e["kind"] == "status"]
    assert statuses[0] == "reported" and statuses[-1] == "withdrawn"  # in the order they happened
    assert [e["position"] for e in mine] == sorted(e["position"] for e in mine)
    log = flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}/deliveries")
    assert log[0]["status_code"] == 200 and log[0]["attempt"] == 3
    assert flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}")["failures"] == 0


def test_a_failing_receiver_gets_the_same_events_again(client, flow, receiver, post):
    """At least once: a 500 leaves the batch to be sent again; the events' ids let it drop repeats."""
    runtime = client.app.state.runtime
    hook = _subscribe(flow, receiver)
    flow.report()
    receiver.status = 500
    _deliver(runtime, post)
    receiver.status = 204
    _deliver(runtime, post, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    failed, succeeded = receiver.deliveries
    assert failed["events"] == succeeded["events"]
    log = flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}/deliveries")
    assert [row["status_code"] for row in log] == [204, 500]
    assert "answered 500" in log[1]["error"]


def test_kinds_filter_and_pause(client, flow, receiver, post):
    runtime = client.app.state.runtime
    hook = _subscribe(flow, receiver, kinds=["route"])
    flow.report()
    _deliver(runtime, post)
    assert receiver.events() and {e["kind"] for e in receiver.events()} == {"route"}
    assert flow.call("admin", "GET", f"/v1/webhooks/{hook['id']}")["backlog"] == 0
    paused = flow.call("admin", "POST", f"/v1/webhooks/{hook['id']}/pause")
    assert paused["active"] is False
    flow.report()
    count = len(receiver.events())
    assert _deliver(runtime, post) == 0 and len(receiver.events()) == count
    flow.call("admin", "POST", f"/v1/webhooks/{hook['id']}/resume")
    assert _deliver(runtime, post) > 0 and len(receiver.events()) > count


def test_the_signature_refuses_a_changed_body_and_a_replay():
    secret, body = b"whsec_test", b'{"events": []}'
    header = signing.sign(secret, int(time.time()), body)
    assert signing.verify(secret, header, body) > 0
    with pytest.raises(signing.BadSignature, match="does not match"):
        signing.verify(secret, header, body + b" ")
    with pytest.raises(signing.BadSignature, match="does not match"):
        signing.verify(b"another secret", header, body)
    with pytest.raises(signing.BadSignature, match="tolerance"):
        signing.verify(secret, header, body, now=time.time() + 301)
    for broken in (None, "", "t=abc,v1=00", "v1=00"):
        with pytest.raises(signing.BadSignature):
            signing.verify(secret, broken, body)


def test_two_workers_never_deliver_one_batch_twice(committed_client, receiver, post):
    """Both workers of two hosts poll at once: the lease gives each batch to one of them."""
    flow = Flow(committed_client)
    runtime = committed_client.app.state.runtime
    hook = _subscribe(flow, receiver)
    for _ in range(6):
        flow.report()
    start = threading.Barrier(2)

    def poll() -> int:
        start.wait()
        return _deliver(runtime, post)

    with ThreadPoolExecutor(max_workers=2) as pool:
        sent = sum(f.result() for f in [pool.submit(poll), pool.submit(poll)])
    ids = [e["id"] for e in receiver.events()]
    assert len(ids) == len(set(ids)) == sent > 0
    assert ids == [e["id"] for e in _feed_after(flow, hook["position"])]
    flow.call("admin", "POST", f"/v1/webhooks/{hook['id']}/pause")


def test_the_worker_delivers_within_seconds(committed_client, receiver):
    """The real worker loop, as `claims worker` runs it, posts a new claim's events on its own."""
    flow = Flow(committed_client)
    runtime = committed_client.app.state.runtime
    hook = _subscribe(flow, receiver)
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(runtime, stop, 0.2), daemon=True)
    loop.start()
    try:
        number = flow.report()["claim_number"]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and number not in {e["claim_number"] for e in receiver.events()}:
            time.sleep(0.1)
    finally:
        stop.set()
        loop.join(timeout=15)
    assert number in {e["claim_number"] for e in receiver.events()}
    assert receiver.deliveries[0]["webhook"] == hook["id"] and not receiver.refused
    flow.call("admin", "POST", f"/v1/webhooks/{hook['id']}/pause")
