"""Backtest speed: two rulebook versions over 1,000,000 claims with the batch evaluator."""

import time

import pandas as pd
from rich.console import Console

from bench.common import machine, rss_mb, save
from rules import batch, samples
from rules.backtest import backtest
from rules.rulebook import RULEBOOK_DIR, load, loads

CLAIMS = 1_000_000


def main() -> None:
    """Time one evaluation and a full two-version backtest on a million claims."""
    console = Console()
    console.print(f"[bold]backtest[/bold] on {machine()}")
    baseline = load(RULEBOOK_DIR / "motor.yaml")
    candidate = loads(
        baseline.text.replace('version: "2026.12.9"', 'version: "2026.12.1"').replace(
            "  simple_max_amount: 10000 ", "  simple_max_amount: 5000 "
        ),
        source="motor.yaml",
    )
    start = time.perf_counter()
    sample = pd.DataFrame(list(samples.generate(baseline, 20_000, seed=9)))
    history = pd.concat([sample] * (CLAIMS // len(sample)), ignore_index=True)
    console.print(
        f"  {len(history):,} claims built in {time.perf_counter() - start:.1f} s, RSS {rss_mb():.0f} MB"
    )
    start = time.perf_counter()
    batch.evaluate(baseline, history)
    one = time.perf_counter() - start
    start = time.perf_counter()
    report = backtest(baseline, candidate, history)
    both = time.perf_counter() - start
    console.print(
        f"  one version: {one:.1f} s ({len(history) / one:,.0f} claims/s); full backtest of two versions "
        f"with the report: {both:.1f} s (target ≤ 6 s); {report['changed']['any']:,} claims change"
    )
    figures = {
        "machine": machine(),
        "claims": len(history),
        "one_version_seconds": one,
        "backtest_seconds": both,
    }
    console.print(f"saved {save('backtest', figures)}")
