"""The HTTP server's own entry point: `claims serve` runs this module in a fresh interpreter.

uvicorn starts its workers as spawned processes, and a spawned process imports its parent's
main module first. With `service.cli` as that module every worker would load every command's
libraries (pandas, scikit-learn, MLflow: about 180 MB each); with this one it loads the app.
"""

from __future__ import annotations

import argparse

import uvicorn


def main(argv: list[str] | None = None) -> None:
    """Run uvicorn on the service's app factory."""
    parser = argparse.ArgumentParser(prog="python -m service.serve", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep-alive", type=int, default=30)
    args = parser.parse_args(argv)
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        timeout_keep_alive=args.keep_alive,
        access_log=False,  # requests are logged as JSON by the app
    )


if __name__ == "__main__":
    main()
