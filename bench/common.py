"""Helpers shared by the benchmarks: timing summaries, memory, machine and result files."""

import json
import os
import platform
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil

OUT = Path(__file__).parent / "out"


def summarize(seconds: list[float]) -> dict[str, float]:
    """Return count, throughput and latency percentiles (ms) of per-item timings."""
    ordered = sorted(seconds)
    n = len(ordered)
    return {
        "n": n,
        "per_second": n / sum(ordered),
        "median_ms": statistics.median(ordered) * 1e3,
        "p95_ms": ordered[min(n - 1, int(n * 0.95))] * 1e3,
        "p99_ms": ordered[min(n - 1, int(n * 0.99))] * 1e3,
        "max_ms": ordered[-1] * 1e3,
    }


def rss_mb() -> float:
    """Return this process's resident memory in MB."""
    return psutil.Process().memory_info().rss / 2**20


def machine() -> str:
    """Describe the machine the numbers come from."""
    cpu = platform.processor() or platform.machine()
    memory = psutil.virtual_memory().total / 2**30
    return f"{os.cpu_count()} cores {cpu}, {memory:.0f} GiB, Python {platform.python_version()}"


def _spin(seconds: float) -> list[int]:
    # A fixed piece of interpreter work, counted per tenth of a second.
    counts = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start, n = time.perf_counter(), 0
        while time.perf_counter() - start < 0.1:
            sum(range(10_000))
            n += 1
        counts.append(n * 10)
    return counts


def cpu_speed(seconds: float = 3.0) -> dict[str, float]:
    """How fast the cores run right now, all of them busy at once (units of work per second per core).

    A shared virtual machine runs slower when its neighbours are busy: the figure puts the
    latencies measured next to it in context (compare runs at a similar speed).
    """
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(cores) as pool:
        slices = [n for counts in pool.map(_spin, [seconds] * cores) for n in counts]
    return {"median": statistics.median(slices), "slowest_tenth": sorted(slices)[len(slices) // 10]}


def save(name: str, data: dict) -> Path:
    """Write a benchmark's results as JSON under bench/out/."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def new_postgres_database(server_url: str, prefix: str) -> str:
    """Create an empty database on the PostgreSQL server of `server_url`; return its URL."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)
