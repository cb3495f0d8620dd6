"""A registered model's serving document, produced by a short-lived process.

A serving process calls `document(data_dir, ref)`: it runs `python -m risk_models.export`,
which imports MLflow, resolves the alias, loads the model and prints its serving document
(see `serving`). The caller then holds numpy and LightGBM's library only; MLflow,
scikit-learn and pandas stay in the process that exits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REFUSED = "export refused: "  # marks the child's one-line reason among any warnings on stderr


class ExportError(RuntimeError):
    """The registry could not give the serving document; the message says why."""


def document(data_dir: str | Path, ref: str = "champion", timeout: float = 300) -> str:
    """Return the serving document of a registered version or alias, from a child process."""
    return _child(["--data-dir", str(data_dir), "--", ref], timeout, "{")


def _child(arguments: list[str], timeout: float, opens: str) -> str:
    command = [sys.executable, "-m", "risk_models.export", *arguments]
    try:
        done = subprocess.run(
            command, capture_output=True, encoding="utf-8", errors="replace", timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise ExportError(f"the registry gave no answer within {timeout:.0f} s") from None
    if done.returncode != 0:
        reasons = [line for line in done.stderr.splitlines() if line.startswith(REFUSED)]
        lines = done.stderr.strip().splitlines()
        raise ExportError(
            reasons[-1].removeprefix(REFUSED)
            if reasons
            else (lines[-1] if lines else f"exit {done.returncode}")
        )
    if not done.stdout.startswith(opens):
        raise ExportError(f"the export printed no serving document: {done.stdout[:80]!r}")
    return done.stdout


def listing(data_dir: str | Path, timeout: float = 300) -> list[dict]:
    """Return every registered version with aliases, metrics and its plots' files, from a child."""
    text = _child(["--data-dir", str(data_dir), "--list"], timeout, "[")
    try:
        return json.loads(text)
    except ValueError:
        raise ExportError(f"the export printed no list of versions: {text[:80]!r}") from None


def _listing() -> str:
    from risk_models import registry

    rows = registry.versions()
    for row in rows:
        row["plots"] = {name: str(path) for name, path in registry.plots(row["run_id"]).items()}
    return json.dumps(rows)


def main(argv: list[str] | None = None) -> int:
    """Print the serving document of `ref` (or, for `--list`, the versions) to standard output."""
    parser = argparse.ArgumentParser(prog="python -m risk_models.export", description=main.__doc__)
    parser.add_argument("ref", nargs="?", help="a version number or an alias such as champion")
    parser.add_argument("--list", action="store_true", help="list the versions and their plots instead")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="the embedded store's folder")
    args = parser.parse_args(argv)
    if (args.ref is None) == (not args.list):
        parser.error("name one version or alias, or give --list")
    # Only the document goes to standard output: anything a library prints (LightGBM's log hook
    # prints to stdout) goes to standard error instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from risk_models import registry  # only this process imports MLflow

    if not os.environ.get("MLFLOW_TRACKING_URI") and not (args.data_dir / "mlflow.db").is_file():
        # Configuring would create an empty store there and hide the mistake behind "no version".
        print(f"{REFUSED}no model registry under {args.data_dir} (no mlflow.db)", file=sys.stderr)
        return 1
    try:
        registry.configure(args.data_dir)
        if args.list:
            text = _listing()
        else:
            model, version = registry.load(args.ref)
            text = model.serving(version).to_json()
    except Exception as exc:  # one line for the serving process to report, never a traceback
        print(REFUSED + f"{type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    try:
        with out:
            out.write(text)
    except BrokenPipeError:  # the reader stopped early (`| head`): nothing left to tell it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
