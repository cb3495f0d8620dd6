"""A registered model's serving document, produced by a short-lived process.

A serving worker calls `document(data_dir, ref)`: it runs `python -m risk_models.export`,
which imports MLflow, resolves the alias, loads the model and prints its serving document
(see `serving`). The worker then holds numpy and LightGBM's library only; MLflow,
scikit-learn and pandas (about 230 MB) stay in the process that exits.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


class ExportError(RuntimeError):
    """The registry could not give the serving document; the message says why."""


def document(data_dir: str | Path, ref: str = "champion", timeout: float = 300) -> str:
    """Return the serving document of a registered version or alias, from a child process."""
    command = [sys.executable, "-m", "risk_models.export", "--data-dir", str(data_dir), ref]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ExportError(f"the registry gave no answer within {timeout:.0f} s") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise ExportError(lines[-1] if lines else f"the export ended with code {done.returncode}")
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    """Print the serving document of `ref` to standard output."""
    parser = argparse.ArgumentParser(prog="python -m risk_models.export", description=main.__doc__)
    parser.add_argument("ref", help="a version number or an alias such as champion")
    parser.add_argument("--data-dir", type=Path, default=Path("data"), help="the embedded store's folder")
    args = parser.parse_args(argv)
    from risk_models import registry  # only this process imports MLflow

    try:
        registry.configure(args.data_dir)
        model, version = registry.load(args.ref)
        text = model.serving(version).to_json()
    except Exception as exc:  # one line for the serving process to report, never a traceback
        print(f"{type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
