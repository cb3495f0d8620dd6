"""The outbox: delivery to a real local SMTP server, the lag of timed jobs, and what writing the
customer's messages costs intake (SQLite, in process).

Targets (issue 17) on a 2-core machine: 1,000 messages delivered in under 60 s; job lag p99
under 5 s; intake within 10% of its speed without the outbox's rows.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from rich.console import Console

from bench.common import machine, save
from bench.load import KEYS, fnol
from bench.service_bench import _free_port, _prepare_model, _seed

MESSAGES = 1_000
JOBS = 300
INTAKE_ROUNDS, INTAKE_BLOCK = 6, 100


def main() -> None:
    """Deliver 1,000 messages, run 300 timed jobs, and time intake with and without the outbox."""
    from aiosmtpd.controller import Controller

    from risk_models import registry
    from risk_models.scorer import Scorer
    from service import runtime as runtime_module
    from service.claims import service
    from service.claims.schemas import ClaimIn
    from service.config import Settings
    from service.models.aftersales import Job, Message
    from service.models.claims import Claim
    from service.outbox import delivery, worker
    from service.outbox import service as outbox
    from service.security import Principal

    console = Console()
    console.print(f"[bold]outbox[/bold] on {machine()}")
    root = Path(tempfile.mkdtemp(prefix="claims-outbox-"))
    received: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content)
            return "250 OK"

    smtp = Controller(Inbox(), hostname="127.0.0.1", port=_free_port())
    smtp.start()
    try:
        with console.status("training the model and loading policies"):
            _prepare_model(root)
            url = f"sqlite:///{root / 'claims.db'}"
            policies = _seed(url, root)
        keys = ",".join(f"{role}:{name}:key-{who}" for who, (role, name) in KEYS.items())
        settings = Settings(
            data_dir=root,
            database_url=url,
            api_keys=keys,
            load_model=False,
            smtp_host="127.0.0.1",
            smtp_port=smtp.port,
        )
        registry.configure(root)
        rt = runtime_module.build(settings, scorer=Scorer.from_registry("champion"))
        system = Principal(KEYS["system"][1], "claims_system")
        rng = random.Random(17)

        def report(n: int, tag: str) -> float:
            begin = time.perf_counter()
            for i in range(n):
                with rt.sessions() as session:
                    body = {**fnol(rng.choice(policies), rng), "contact_email": f"c{i}@example.com"}
                    service.report(session, rt, ClaimIn.model_validate(body), system, f"{tag}{i}")
                    session.commit()
            return (time.perf_counter() - begin) / n * 1e3

        # Intake with and without the outbox's rows, in alternating blocks (the host drifts).
        real = outbox.at_intake
        with_outbox, without = [], []
        with console.status("timing intake with and without the outbox"):
            report(50, "warm")
            for round_ in range(INTAKE_ROUNDS):
                with_outbox.append(report(INTAKE_BLOCK, f"on{round_}-"))
                outbox.at_intake = lambda *_: []
                try:
                    without.append(report(INTAKE_BLOCK, f"off{round_}-"))
                finally:
                    outbox.at_intake = real
        on_ms, off_ms = statistics.median(with_outbox), statistics.median(without)
        ratio = on_ms / off_ms
        console.print(
            f"  intake: {on_ms:.2f} ms a claim with the outbox, {off_ms:.2f} ms without: ratio {ratio:.3f} "
            f"(target <= 1.10: {'met' if ratio <= 1.10 else 'NOT met'})"
        )

        # Delivery: every queued message (the acknowledgements above), topped up to 1,000.
        with rt.sessions() as session:
            queued = session.query(Message).filter(Message.status == "queued").count()
            claims = session.query(Claim).limit(MESSAGES).all()
            for i in range(max(MESSAGES - queued, 0)):  # more letters to the same customers
                values = {"amount": "100.00"}
                session.add(outbox.build(rt, claims[i % len(claims)], "approval", values, about=f"bench-{i}"))
            session.commit()
        with console.status(f"delivering {max(queued, MESSAGES):,} messages"):
            begin = time.perf_counter()
            sent = 0
            senders = delivery.senders(settings)
            while True:
                done = worker.deliver(rt, senders, limit=200)
                sent += done
                if not done:
                    break
            took = time.perf_counter() - begin
        per_1000 = took / max(sent, 1) * 1000
        console.print(
            f"  delivery: {sent:,} messages to the local SMTP server in {took:.1f} s "
            f"({per_1000:.1f} s per 1,000; target < 60 s: {'met' if per_1000 < 60 else 'NOT met'}); "
            f"the server received {len(received):,}"
        )

        # Job lag: jobs falling due over 20 s, run by the worker loop as it runs in service.
        with rt.sessions() as session:
            session.query(Job).filter(Job.status == "pending").update({"status": "cancelled"})
            start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)
            for i in range(JOBS):
                session.add(
                    Job(
                        kind="complaint_escalation",
                        dedupe_key=f"bench-lag-{i}",
                        due_at=start + dt.timedelta(seconds=20 * i / JOBS),
                        status="pending",
                        attempts=0,
                        payload={"complaint_id": 0},
                    )
                )
            session.commit()
        stop = threading.Event()
        loop = threading.Thread(target=worker.run, args=(rt, stop, 1.0))
        with console.status(f"running {JOBS} timed jobs"):
            loop.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with rt.readers() as session:
                    left = (
                        session.query(Job)
                        .filter(Job.dedupe_key.like("bench-lag-%"), Job.status == "pending")
                        .count()
                    )
                if not left:
                    break
                time.sleep(0.5)
            stop.set()
            loop.join()
        with rt.readers() as session:
            jobs = session.query(Job).filter(Job.dedupe_key.like("bench-lag-%")).all()
            lags = sorted(
                (
                    (j.done_at.replace(tzinfo=dt.UTC) if j.done_at.tzinfo is None else j.done_at)
                    - (j.due_at.replace(tzinfo=dt.UTC) if j.due_at.tzinfo is None else j.due_at)
                ).total_seconds()
                for j in jobs
                if j.done_at
            )
        p99 = lags[min(len(lags) - 1, int(0.99 * len(lags)))] if lags else float("inf")
        console.print(
            f"  job lag: {len(lags)} of {JOBS} jobs ran; median {statistics.median(lags):.2f} s, "
            f"p99 {p99:.2f} s (target < 5 s: {'met' if p99 < 5 else 'NOT met'})"
        )
        rt.close()
        results = {
            "machine": machine(),
            "intake_ms_with_outbox": on_ms,
            "intake_ms_without": off_ms,
            "intake_ratio": ratio,
            "messages_sent": sent,
            "delivery_seconds": took,
            "seconds_per_1000": per_1000,
            "job_lag_median_s": statistics.median(lags),
            "job_lag_p99_s": p99,
        }
        console.print(f"saved {save('outbox', results)}")
    finally:
        smtp.stop()
        shutil.rmtree(root, ignore_errors=True)
