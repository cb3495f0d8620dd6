"""Rules engine: claims/s, per-claim latency and memory growth through durable-rules."""

import gc
import time

from rich.console import Console
from rich.table import Table

from bench.common import machine, rss_mb, save, summarize
from rules import facts as fact_io
from rules.engine import RulesEngine
from rules.rulebook import load_shipped
from rules.samples import generate

CLAIMS = 10_000
MEMORY_RUN = 100_000


def _time_each(fn, items) -> list[float]:
    out = []
    clock = time.perf_counter
    for item in items:
        start = clock()
        fn(item)
        out.append(clock() - start)
    return out


def main() -> None:
    """Benchmark every shipped rulebook and the memory of a long run."""
    console = Console()
    console.print(f"[bold]rules engine[/bold] on {machine()}")
    table = Table("rulebook", "rules", "claims", "claims/s", "median ms", "p99 ms", "engine p99 ms")
    results: dict = {"machine": machine(), "rulebooks": {}}
    books = load_shipped()
    for name, book in books.items():
        claims = list(generate(book, CLAIMS, seed=42))
        encoded = [fact_io.encode(book.facts, fact_io.check(book.facts, c)) for c in claims]
        with RulesEngine(book) as engine:
            for claim in claims[:500]:
                engine.evaluate(claim)  # warm up
            full = summarize(_time_each(engine.evaluate, claims))
            fire = summarize(_time_each(engine.fire, encoded))
        results["rulebooks"][name] = {"rules": len(book.rules), "evaluate": full, "fire": fire}
        table.add_row(
            name,
            str(len(book.rules)),
            str(full["n"]),
            f"{full['per_second']:,.0f}",
            f"{full['median_ms']:.3f}",
            f"{full['p99_ms']:.3f}",
            f"{fire['p99_ms']:.3f}",
        )
    console.print(table)

    book = books["motor"]
    claims = list(generate(book, CLAIMS, seed=43))
    with RulesEngine(book) as engine:
        for claim in claims:
            engine.evaluate(claim)
        gc.collect()
        before = rss_mb()
        start = time.perf_counter()
        for i in range(MEMORY_RUN):
            engine.evaluate(claims[i % CLAIMS])
        elapsed = time.perf_counter() - start
        gc.collect()
        after = rss_mb()
    results["memory"] = {
        "evaluations": MEMORY_RUN,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "growth_mb": after - before,
        "claims_per_second": MEMORY_RUN / elapsed,
    }
    console.print(
        f"memory over {MEMORY_RUN:,} motor evaluations: {before:.1f} MB -> {after:.1f} MB "
        f"(growth {after - before:+.2f} MB), {MEMORY_RUN / elapsed:,.0f} claims/s"
    )
    console.print(f"saved {save('rules', results)}")
