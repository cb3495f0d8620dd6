"""Intake against the floor (bench/floor_app.py), in turns on one machine: A B A B.

The same load (bench/load.py) is sent to the service and to the floor app, in alternating
rounds, each on its own fresh database of the same kind. Per round: server CPU per request at a
fixed rate, and throughput with 16 clients. The ratios are taken round by round, so a machine
whose speed drifts still gives a fair figure. Targets (issue 15): CPU per request at most 2.5x
the floor's.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from rich.console import Console

from bench.common import machine, new_postgres_database, save
from bench.load import Load, run
from bench.service_bench import _cpu_seconds, _free_port, _prepare_model, _seed, _start

RATE, RATE_SECONDS = 60, 8
CLIENTS, CLOSED_SECONDS = 16, 8
ROUNDS = 2
CPU_TARGET = 2.5


def _fresh(url: str, data_dir: Path, name: str) -> str:
    if url.startswith("sqlite"):
        return f"sqlite:///{data_dir / f'{name}.db'}"
    return new_postgres_database(url, name)


def _start_floor(url: str, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.floor_app", url, str(port)],
        stdout=open(log, "w"),  # noqa: SIM115 - lives as long as the server
        stderr=subprocess.STDOUT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    for _ in range(120):
        try:
            httpx.post(f"http://127.0.0.1:{port}/v1/claims", json={}, timeout=2)
            return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"the floor app did not start; see {log}")


def _round(server: subprocess.Popen, load: Load) -> dict[str, float]:
    parent = psutil.Process(server.pid)
    processes = [parent, *parent.children(recursive=True)]
    before = _cpu_seconds(processes)
    latencies, _ = run(load.open_loop(RATE, RATE_SECONDS))
    cpu_ms = (_cpu_seconds(processes) - before) / len(latencies) * 1e3
    done, elapsed = run(load.closed_loop(CLIENTS, CLOSED_SECONDS))
    return {"cpu_ms_per_request": cpu_ms, "throughput_per_second": len(done) / elapsed}


def _backend(console: Console, name: str, url: str, root: Path) -> dict:
    ours_url, floor_url = _fresh(url, root, "service"), _fresh(url, root, "floor")
    policies = _seed(ours_url, root)
    ours = _start(ours_url, root, (p1 := _free_port()), root / f"service-{name}.log")
    floor = _start_floor(floor_url, (p2 := _free_port()), root / f"floor-{name}.log")
    try:
        loads = {
            "service": Load(f"http://127.0.0.1:{p1}", policies),
            "floor": Load(f"http://127.0.0.1:{p2}", policies),
        }
        for load in loads.values():
            run(load.open_loop(RATE, 3))  # warm-up, not counted
        rounds = []
        for i in range(ROUNDS):
            pair = {who: _round(server, loads[who]) for who, server in (("service", ours), ("floor", floor))}
            pair["cpu_ratio"] = pair["service"]["cpu_ms_per_request"] / pair["floor"]["cpu_ms_per_request"]
            pair["throughput_ratio"] = (
                pair["service"]["throughput_per_second"] / pair["floor"]["throughput_per_second"]
            )
            rounds.append(pair)
            console.print(
                f"  round {i + 1}: CPU per request {pair['service']['cpu_ms_per_request']:.2f} ms vs floor "
                f"{pair['floor']['cpu_ms_per_request']:.2f} ms ({pair['cpu_ratio']:.2f}x); "
                f"{CLIENTS} clients {pair['service']['throughput_per_second']:.0f} vs "
                f"{pair['floor']['throughput_per_second']:.0f} claims/s ({pair['throughput_ratio']:.2f}x)"
            )
        failures = loads["service"].failures + loads["floor"].failures
        cpu = statistics.median(r["cpu_ratio"] for r in rounds)
        console.print(
            f"  CPU ratio {cpu:.2f}x the floor (target <= {CPU_TARGET}x: "
            f"{'met' if cpu <= CPU_TARGET else 'NOT met'}); {len(failures)} failed requests"
        )
        return {"rounds": rounds, "cpu_ratio": cpu, "failures": failures[:5], "ok": not failures}
    finally:
        for server in (ours, floor):
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    """Run the service and the floor in turns on SQLite and, if TEST_POSTGRES_URL is set, PostgreSQL."""
    import uvloop

    uvloop.install()
    console = Console()
    console.print(f"[bold]intake against the floor[/bold] (2 workers each) on {machine()}")
    root = Path(tempfile.mkdtemp(prefix="claims-floor-"))
    results: dict = {"machine": machine()}
    with console.status("training the model the service loads"):
        _prepare_model(root)
    backends = {"sqlite": "sqlite://"}
    if os.environ.get("TEST_POSTGRES_URL"):
        backends["postgresql"] = os.environ["TEST_POSTGRES_URL"]
    for name, url in backends.items():
        console.print(f"[bold]{name}[/bold]")
        results[name] = _backend(console, name, url, root)
    console.print(f"saved {save('floor', results)}")
    shutil.rmtree(root, ignore_errors=True)
    if any(not r["ok"] for k, r in results.items() if k != "machine"):
        raise SystemExit(1)
