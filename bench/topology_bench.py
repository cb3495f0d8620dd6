"""The production topology with real processes (`scripts/topology`): PostgreSQL, MLflow server,
two replicas behind HAProxy, a worker; one replica SIGKILLed while claims run through the proxy.

Passes when no claim is lost or made twice, each payment happened once and `claims audit verify`
passes (the script's own checks); the suite fails otherwise.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from rich.console import Console

from bench.common import machine, save

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "topology"


def main() -> None:
    console = Console(soft_wrap=True)
    console.print(f"[bold]topology[/bold]: two replicas, a worker and HAProxy on {machine()}")
    start = time.perf_counter()
    try:
        done = subprocess.run(
            [str(SCRIPT)], cwd=SCRIPT.parent.parent, capture_output=True, text=True, timeout=600, check=False
        )
        output, code = done.stdout + done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        output, code = f"{exc.stdout or ''}{exc.stderr or ''}\nno end within 600 s", -1
    seconds = time.perf_counter() - start
    lines = output.splitlines()
    # The driver's summary, and the script's own lines; everything when it failed.
    shown = lines if code else [line for line in lines if line.startswith(("topology", "  "))]
    for line in shown:
        console.print(line, markup=False, highlight=False)
    figures = {"machine": machine(), "seconds": seconds, "passed": code == 0, "summary": shown}
    console.print(f"saved {save('topology', figures)}")
    if code != 0:
        raise SystemExit(1)
