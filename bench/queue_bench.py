"""Work queues with 10,000 open claims: server time of the queue answers, on SQLite in process.

The claims are reported through the real intake (rules, score, assignment), then each queue
request is timed inside the app (TestClient, no network), repeated, median and p95 printed.
Target (issue 16): a queue of 10,000 open claims answered in under 300 ms server time.
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from rich.console import Console

from bench.common import machine, save
from bench.load import KEYS, fnol, headers
from bench.service_bench import _prepare_model, _seed

OPEN_CLAIMS = 10_000
REPEATS = 7
TARGET_MS = 300


def main() -> None:
    """Fill one team's queue with 10,000 open claims and time the queue answers."""
    from fastapi.testclient import TestClient

    from risk_models import registry
    from risk_models.scorer import Scorer
    from service.assignment import SHIPPED
    from service.claims import service
    from service.claims.schemas import ClaimIn
    from service.config import Settings
    from service.main import create_app
    from service.security import Principal

    console = Console()
    console.print(f"[bold]work queues[/bold] with {OPEN_CLAIMS:,} open claims on {machine()}")
    root = Path(tempfile.mkdtemp(prefix="claims-queue-"))
    try:
        with console.status("training the model and loading policies"):
            _prepare_model(root)
            url = f"sqlite:///{root / 'claims.db'}"
            policies = _seed(url, root)
        keys = ",".join(f"{role}:{name}:key-{who}" for who, (role, name) in KEYS.items())
        # The shipped policy with the bench's specialist as the motor team's one member.
        policy = (root / "assignment.yaml").resolve()
        policy.write_text(
            SHIPPED.read_text(encoding="utf-8").replace("[li.wei, chen.jing]", f"[{KEYS['spec'][1]}]"),
            encoding="utf-8",
        )
        settings = Settings(
            data_dir=root, database_url=url, api_keys=keys, load_model=False, assignment_file=policy
        )
        registry.configure(root)
        app = create_app(settings, scorer=Scorer.from_registry("champion"))
        with TestClient(app) as client:
            runtime = app.state.runtime
            rng = random.Random(11)
            system = Principal(KEYS["system"][1], "claims_system")
            start = time.perf_counter()
            with console.status(f"reporting {OPEN_CLAIMS:,} claims"):
                for i in range(OPEN_CLAIMS):
                    with runtime.sessions() as session:
                        data = ClaimIn.model_validate(fnol(rng.choice(policies), rng))
                        service.report(session, runtime, data, system, f"q{i}")
                        session.commit()
            console.print(f"  {OPEN_CLAIMS:,} claims reported in {time.perf_counter() - start:.0f} s")
            counts = {q["team"]: q["open"] for q in client.get("/v1/queues", headers=headers("spec")).json()}
            team = max(counts, key=counts.get)
            results = {"machine": machine(), "open_claims": OPEN_CLAIMS, "queues": counts}
            # The workbench's page of the same queue, signed in as the team's specialist.
            page = client.get("/app/sign-in")
            token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
            signed = client.post(
                "/app/sign-in", data={"csrf": token, "api_key": "key-spec"}, follow_redirects=False
            )
            assert signed.status_code == 303, signed.text
            for name, path in (
                ("counts", "/v1/queues"),
                (f"team {team} ({counts[team]:,} claims)", f"/v1/queues/teams/{team}"),
                (f"team {team}, a deep page", f"/v1/queues/teams/{team}?offset=5000"),
                ("mine", "/v1/queues/mine"),
                ("breached", "/v1/queues/breached"),
                (f"workbench page of team {team}", f"/app/queues/teams/{team}"),
                ("workbench page, my work", "/app/queues/mine"),
            ):
                times = []
                for _ in range(REPEATS):
                    begin = time.perf_counter()
                    answer = client.get(path, headers=headers("spec"))
                    times.append((time.perf_counter() - begin) * 1e3)
                    assert answer.status_code == 200, answer.text
                median, worst = statistics.median(times), max(times)
                results[name] = {"median_ms": median, "max_ms": worst}
                verdict = "met" if median <= TARGET_MS else "NOT met"
                console.print(
                    f"  {name}: median {median:.0f} ms, max {worst:.0f} ms "
                    f"(target <= {TARGET_MS} ms: {verdict})"
                )
        console.print(f"saved {save('queue', results)}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
