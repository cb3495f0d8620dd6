"""Run the benchmarks and print their numbers: `python -m bench [NAME ...]`."""

import sys

from bench import (
    backtest_bench,
    feed_bench,
    floor_bench,
    model_bench,
    money_path,
    outbox_bench,
    queue_bench,
    rules_bench,
    service_bench,
    topology_bench,
)

SUITES = {
    "rules": rules_bench.main,
    "model": model_bench.main,
    "service": service_bench.main,
    "floor": floor_bench.main,
    "backtest": backtest_bench.main,
    "money": money_path.main,
    "queue": queue_bench.main,
    "outbox": outbox_bench.main,
    "feed": feed_bench.main,
    "topology": topology_bench.main,
}

if __name__ == "__main__":
    names = sys.argv[1:] or list(SUITES)
    for name in names:
        SUITES[name]()
