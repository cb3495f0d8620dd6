"""Admission: a worker works on at most `limit` requests at once; health checks never wait."""

import asyncio

from service.admission import Admission


def _run(limit: int, paths: list[str]) -> tuple[int, list[str]]:
    busy, peak, done = 0, 0, []

    async def app(scope, receive, send):
        nonlocal busy, peak
        busy += 1
        peak = max(peak, busy)
        await asyncio.sleep(0.01)
        busy -= 1
        done.append(scope["path"])

    gate = Admission(app, limit=limit)

    async def main():
        await asyncio.gather(*(gate({"type": "http", "path": p}, None, None) for p in paths))

    asyncio.run(main())
    return peak, done


def test_requests_beyond_the_limit_wait_their_turn():
    peak, done = _run(2, ["/v1/claims"] * 7)
    assert peak == 2 and len(done) == 7


def test_health_checks_do_not_wait_in_line():
    peak, done = _run(1, ["/v1/claims"] * 3 + ["/healthz", "/readyz", "/metrics"])
    assert peak == 4  # one claim request plus the three checks at once
    assert set(done[:4]) == {"/v1/claims", "/healthz", "/readyz", "/metrics"}  # checks: no waiting
    assert done[4:] == ["/v1/claims", "/v1/claims"]


def test_a_new_event_loop_gets_its_own_line():
    gate_runs = [_run(1, ["/v1/claims"] * 2) for _ in range(2)]  # a fresh loop each time
    assert [peak for peak, _ in gate_runs] == [1, 1]
