"""The load generator: first notices of loss and claim lifecycles sent to a running service.

aiohttp on uvloop, a connection per request, and no garbage collection pauses of its own
during a timed run: the generator shares the machine it measures and must stay cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import json
import random
import socket
import struct
import time
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import aiohttp

KEYS = {
    "system": ("claims_system", "bench-system"),
    "spec": ("specialist", "bench-specialist"),
    "senior": ("senior_reviewer", "bench-senior"),
    "analyst": ("analyst", "bench-analyst"),
}
T = TypeVar("T")
# What a failed lifecycle call answers: a claim that goes no further, also where a call's
# answer wraps the claim (a document upload answers {"claim": ...}).
STOPPED: dict[str, Any] = {"status": None, "on_hold": True, "documents": {"missing": []}}
STOPPED["claim"] = STOPPED


def headers(who: str, **extra: str) -> dict[str, str]:
    """Request headers authenticating as one of the bench callers."""
    return {"X-API-Key": f"key-{who}", **extra}


def fnol(policy: str, rng: random.Random) -> dict:
    """A valid first notice of loss on a bench policy, varied by the generator's seeded rng."""
    incident = dt.datetime.now().replace(microsecond=0) - dt.timedelta(
        days=rng.randint(0, 5), hours=rng.randint(0, 12)
    )
    return {
        "policy_number": policy,
        "channel": rng.choice(["app", "online", "hotline", "email"]),
        "incident_at": incident.isoformat(),
        "peril": rng.choice(["single_vehicle", "collision", "glass", "vandalism"]),
        "description": "Bench claim",
        "claimed_amount": f"{rng.uniform(300, 60000):.2f}",
        "payee_account": f"6222 {rng.randint(1000, 9999)} 0000 1111",
        "provider": f"Repairer {rng.randint(1, 200)}",
        "facts": {
            "driver_intoxicated": False,
            "driver_licensed": True,
            "intentional_loss": False,
            "catastrophe_event": False,
        },
    }


def _socket(addr_info: tuple) -> socket.socket:
    """A client socket that is reset when closed, leaving no TIME_WAIT behind.

    A connection per request at 100/s leaves thousands of sockets in TIME_WAIT on the machine
    being measured; finding a free local port among them costs the kernel more on every connect.
    """
    family, kind, proto, *_ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return sock


class Load:
    """Drives the running service and keeps every outcome."""

    def __init__(self, base: str, policies: list[str]) -> None:
        self.base = base
        self.policies = policies
        self.rng = random.Random(11)
        self.created: list[str] = []
        self.failures: list[str] = []

    def client(self, connections: int = 200) -> aiohttp.ClientSession:
        """A connection per request, as from many independent callers.

        uvicorn's workers share one listening socket and nothing moves a kept-alive connection:
        eight long-lived connections could all land on one worker and leave the other idle.
        """
        return aiohttp.ClientSession(
            base_url=self.base,
            connector=aiohttp.TCPConnector(limit=connections, force_close=True, socket_factory=_socket),
            timeout=aiohttp.ClientTimeout(total=60),
        )

    async def intake(self, client: aiohttp.ClientSession, scheduled: float | None = None) -> float:
        body = fnol(self.rng.choice(self.policies), self.rng)
        start = scheduled if scheduled is not None else time.perf_counter()
        try:
            async with client.post("/v1/claims", json=body, headers=headers("system")) as response:
                status, payload = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.failures.append(f"intake {exc.__class__.__name__}: {exc}")
            return time.perf_counter() - start
        elapsed = time.perf_counter() - start
        if status == 201:
            self.created.append(json.loads(payload)["claim_number"])
        else:
            self.failures.append(f"{status} {payload[:200]!r}")
        return elapsed

    async def open_loop(self, rate: int, seconds: int) -> tuple[list[float], float]:
        """Send `rate` claims a second; latency counts from the scheduled send (no coordinated omission)."""
        async with self.client() as client:
            begin = time.perf_counter()
            tasks = []
            for i in range(rate * seconds):
                due = begin + i / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                tasks.append(asyncio.create_task(self.intake(client, scheduled=due)))
            latencies = await asyncio.gather(*tasks)
            return list(latencies), time.perf_counter() - begin

    async def closed_loop(self, concurrency: int, seconds: int) -> tuple[list[float], float]:
        """`concurrency` clients each sending the next claim as soon as the last one returns."""
        async with self.client(concurrency) as client:
            stop = time.perf_counter() + seconds
            latencies: list[float] = []

            async def worker() -> None:
                while time.perf_counter() < stop:
                    latencies.append(await self.intake(client))

            begin = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return latencies, time.perf_counter() - begin

    async def lifecycle(self, numbers: list[str], concurrency: int = 8) -> dict[str, list[float]]:
        """Documents, review, decision and payment for each claim, several claims at once."""
        steps: dict[str, list[float]] = {"documents": [], "review": [], "decision": [], "payment": []}
        async with self.client(concurrency) as client:

            async def call(step: str, who: str, method: str, path: str, body=None, **extra) -> dict:
                start = time.perf_counter()
                try:
                    async with client.request(
                        method, path, json=body, headers=headers(who, **extra)
                    ) as response:
                        status, payload = response.status, await response.read()
                except (aiohttp.ClientError, TimeoutError) as exc:
                    self.failures.append(f"{step} {exc.__class__.__name__}: {exc}")
                    return STOPPED
                steps[step].append(time.perf_counter() - start)
                if status >= 400:
                    self.failures.append(f"{step} {status} {payload[:200]!r}")
                    return STOPPED
                return json.loads(payload)

            async def one(number: str) -> None:
                claim = await call("documents", "analyst", "GET", f"/v1/claims/{number}")
                for doc in claim["documents"]["missing"]:
                    body = {"doc_type": doc["code"], "file_name": "d.pdf", "sha256": "ab" * 32}
                    claim = (
                        await call("documents", "system", "POST", f"/v1/claims/{number}/documents", body)
                    )["claim"]
                if claim["status"] != "under_review" or claim["on_hold"]:
                    return
                amount = claim["payable_amount"]
                if float(amount) <= 0:
                    return  # nothing payable (under the deductible): not part of this workload
                review = {"stage": "preliminary", "recommendation": "approve", "amount": amount}
                claim = await call("review", "spec", "POST", f"/v1/claims/{number}/reviews", review)
                decider = "spec"
                if claim["status"] == "senior_review":
                    review = {"stage": "senior", "recommendation": "approve", "amount": amount}
                    await call("review", "senior", "POST", f"/v1/claims/{number}/reviews", review)
                    decider = "senior"
                await call(
                    "decision",
                    decider,
                    "POST",
                    f"/v1/claims/{number}/decision",
                    {"outcome": "approve", "amount": amount},
                )
                await call(
                    "payment",
                    "system",
                    "POST",
                    f"/v1/claims/{number}/payments",
                    {"method": "bank_transfer"},
                    **{"Idempotency-Key": f"bench-{number}"},
                )

            gate = asyncio.Semaphore(concurrency)

            async def guarded(number: str) -> None:
                async with gate:
                    await one(number)

            await asyncio.gather(*(guarded(n) for n in numbers))
        return steps


@contextlib.contextmanager
def no_generator_pauses() -> Iterator[None]:
    """Keep the load generator's own garbage collection out of the latencies it measures.

    This process trained a model and imported MLflow: a full collection over that heap stalls
    its event loop for over 100 ms, and every request due meanwhile would be charged for it.
    """
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one timed phase of load on a fresh event loop, the generator's collector held off."""
    with no_generator_pauses():
        return asyncio.run(coroutine)
