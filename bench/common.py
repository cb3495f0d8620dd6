"""Helpers shared by the benchmarks: timing summaries, memory, machine and result files."""

import json
import os
import platform
import statistics
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


def save(name: str, data: dict) -> Path:
    """Write a benchmark's results as JSON under bench/out/."""
    OUT.mkdir(exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path
