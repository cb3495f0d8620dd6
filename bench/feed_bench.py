"""The change feed and webhooks under load: a real service (2 workers), a real worker process and
a real receiver; 100 claims a second offered, up to 16 writers at once, while a reader tails /v1/events.

Targets (issue 19): webhook delivery lag p99 under 2 s at 100 claims/s; the feed misses and
repeats nothing under 8 concurrent writers on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from rich.console import Console
from sqlalchemy import create_engine, text

from bench.common import machine, new_postgres_database, save
from bench.load import fnol, headers, run
from bench.service_bench import CLAIMS, _env, _free_port, _prepare_model, _seed, _start

RATE = 100  # claims a second
IN_FLIGHT = 16  # concurrent writers at most (the feed's check asks for at least 8)
SECONDS = 30
POLICIES = 3000
TARGET_LAG_P99_S = 2.0
ADMIN_KEY = "key-feed-admin"


def _environment(url: str, root: Path) -> dict[str, str]:
    env = _env(url, root)
    env["CLAIMS_API_KEYS"] += f",admin:bench-admin:{ADMIN_KEY}"
    return env


async def _drive(base: str, receiver_port: int, policies: list[str]) -> dict:
    """Subscribe, load, tail; return what the reader and the receiver saw."""
    import random

    arrivals: list[tuple[float, dict]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        arrivals.extend((now, event) for event in json.loads(body)["events"])
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", receiver_port).start()
    admin = {"X-API-Key": ADMIN_KEY}
    async with aiohttp.ClientSession(base_url=base) as client:
        async with client.post(
            "/v1/webhooks", json={"url": f"http://127.0.0.1:{receiver_port}/hooks"}, headers=admin
        ) as answer:
            subscription = await answer.json()
            if answer.status != 201:
                raise RuntimeError(f"the subscription was refused: {subscription}")
        start = subscription["position"]
        rng = random.Random(19)
        failures: list[str] = []
        tailed: list[dict] = []
        stop = asyncio.Event()

        slots = asyncio.Semaphore(IN_FLIGHT)

        async def one(body: dict) -> None:
            async with slots, client.post("/v1/claims", json=body, headers=headers("system")) as response:
                if response.status != 201:
                    failures.append(f"{response.status}: {(await response.read())[:200]!r}")

        async def offer(n: int) -> None:
            """Open loop: a claim every 1/RATE s, whatever the service's pace (at most IN_FLIGHT wait)."""
            begin, sent = time.perf_counter(), []
            for i in range(n):
                await asyncio.sleep(max(0.0, begin + i / RATE - time.perf_counter()))
                sent.append(asyncio.create_task(one(fnol(rng.choice(policies), rng))))
            await asyncio.gather(*sent)

        async def caught_up() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                async with client.get(f"/v1/webhooks/{subscription['id']}", headers=admin) as answer:
                    if (await answer.json())["backlog"] == 0:
                        return
                await asyncio.sleep(0.2)

        # Warm-up: the worker process has started and delivered once before the timed run.
        await offer(20)
        await caught_up()
        async with client.get("/v1/events", params={"after": start, "limit": 1000}, headers=admin) as page:
            start = (await page.json())["next_cursor"]
        arrivals.clear()

        async def tail() -> None:
            cursor = start
            while True:
                finished = stop.is_set()
                async with client.get(
                    "/v1/events", params={"after": cursor, "limit": 500}, headers=headers("system")
                ) as response:
                    page = await response.json()
                tailed.extend(page["events"])
                cursor = page["next_cursor"]
                if finished and not page["more"]:
                    return
                if not page["more"]:
                    await asyncio.sleep(0.1)

        reader = asyncio.create_task(tail())
        began = time.perf_counter()
        await offer(SECONDS * RATE)
        took = time.perf_counter() - began
        stop.set()
        await reader
        await caught_up()
    await runner.cleanup()
    return {"start": start, "tailed": tailed, "arrivals": arrivals, "failures": failures, "seconds": took}


def _backend(console: Console, name: str, url: str, root: Path) -> dict:
    policies = _seed(url, root, POLICIES, prefix="FEED")
    port, receiver_port = _free_port(), _free_port()
    server = _start(url, root, port, root / f"feed-{name}.log", _environment(url, root))
    worker_log = open(root / f"feed-worker-{name}.log", "w")  # noqa: SIM115 - lives as long as the worker
    worker = subprocess.Popen(
        [*CLAIMS, "worker", "--interval", "0.2"],
        env=_environment(url, root),
        stdout=worker_log,
        stderr=subprocess.STDOUT,
    )
    try:
        with console.status(
            f"{RATE} claims/s ({IN_FLIGHT} writers at most) for {SECONDS} s, tailing the feed"
        ):
            seen = run(_drive(f"http://127.0.0.1:{port}", receiver_port, policies))
    finally:
        worker.terminate()
        server.terminate()
        worker.wait(timeout=30)
        server.wait(timeout=30)
    engine = create_engine(url)
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT id, position, at FROM claim_events WHERE position > :start ORDER BY position"),
            {"start": seen["start"]},
        ).all()
    engine.dispose()
    stored_ids = [row.id for row in stored]
    tailed_ids = [e["id"] for e in seen["tailed"]]
    missed = len(set(stored_ids) - set(tailed_ids))
    repeated = len(tailed_ids) - len(set(tailed_ids))
    in_order = tailed_ids == stored_ids
    first_arrival: dict[int, float] = {}
    for moment, event in seen["arrivals"]:
        first_arrival.setdefault(event["id"], moment)
    lost = len(set(stored_ids) - set(first_arrival))
    lags = sorted(
        first_arrival[e["id"]] - dt.datetime.fromisoformat(e["at"]).timestamp()
        for e in seen["tailed"]
        if e["id"] in first_arrival
    )
    p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else float("inf")
    by_second: dict[int, list[float]] = {}
    for e in seen["tailed"]:
        if e["id"] in first_arrival:
            moment = dt.datetime.fromisoformat(e["at"]).timestamp()
            by_second.setdefault(int(moment) // 5 * 5, []).append(first_arrival[e["id"]] - moment)
    timeline = [round(max(v), 2) for _, v in sorted(by_second.items())]
    console.print(f"  worst lag in each 5 s of the run: {timeline}")
    claims = sum(1 for e in seen["tailed"] if e["kind"] == "status" and e["new"] == "reported")
    rate = claims / seen["seconds"]
    gaps = [b.position - a.position for a, b in itertools.pairwise(stored) if b.position - a.position != 1]
    order = "kept" if in_order else "BROKEN"
    console.print(
        f"  feed: {len(stored):,} events of {claims:,} claims ({rate:.0f} claims/s, "
        f"{len(seen['failures'])} failed requests); the reader missed {missed}, repeated {repeated}, "
        f"order {order}; {len(gaps)} gaps in the positions"
    )
    verdict = "met" if p99 < TARGET_LAG_P99_S else "NOT met"
    console.print(
        f"  webhooks: {len(first_arrival):,} events delivered, {lost} not; repeats "
        f"{len(seen['arrivals']) - len(first_arrival)}; lag median {statistics.median(lags):.2f} s, "
        f"p99 {p99:.2f} s (target < {TARGET_LAG_P99_S:.0f} s: {verdict})"
    )
    return {
        "events": len(stored),
        "claims": claims,
        "claims_per_second": rate,
        "failed_requests": len(seen["failures"]),
        "feed_missed": missed,
        "feed_repeated": repeated,
        "feed_in_order": in_order,
        "position_gaps": len(gaps),
        "webhook_delivered": len(first_arrival),
        "webhook_lost": lost,
        "webhook_repeats": len(seen["arrivals"]) - len(first_arrival),
        "lag_median_s": statistics.median(lags) if lags else None,
        "lag_p99_s": p99,
        "ok": missed == 0 and repeated == 0 and in_order and lost == 0 and not gaps,
    }


def main() -> None:
    """The feed and its webhooks under 100 claims/s on SQLite and, if there is one, PostgreSQL."""
    import uvloop

    uvloop.install()
    console = Console()
    console.print(f"[bold]change feed and webhooks[/bold] on {machine()}")
    root = Path(tempfile.mkdtemp(prefix="claims-feed-"))
    results: dict = {"machine": machine()}
    try:
        with console.status("training the model the service loads"):
            _prepare_model(root)
        backends = {"sqlite": f"sqlite:///{root / 'feed.db'}"}
        if os.environ.get("TEST_POSTGRES_URL"):
            backends["postgresql"] = new_postgres_database(os.environ["TEST_POSTGRES_URL"], "claims_feed")
        wanted = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")
        for name, url in backends.items():
            if name in wanted:
                console.print(f"[bold]{name}[/bold]")
                results[name] = _backend(console, name, url, root)
    except BaseException:
        console.print(f"kept {root} (logs) for inspection")
        raise
    console.print(f"saved {save('feed', results)}")
    if any(isinstance(out, dict) and out.get("ok") is False for out in results.values()):
        console.print(f"[red]the feed or its webhooks lost or repeated events[/red]; kept {root}")
        raise SystemExit(1)
    shutil.rmtree(root, ignore_errors=True)
