"""The HTTP server's own entry point: `claims serve` runs this module in a fresh interpreter.

uvicorn starts its workers as spawned processes, and a spawned process imports its parent's
main module first. With `service.cli` as that module every worker would load every command's
libraries (pandas, scikit-learn, MLflow); with this one it loads the app. The champion's
serving document is read from the registry once, here, and handed to every worker as a file:
the workers start with one version, and only one exporting process runs at a time.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import threading

import uvicorn

from service import model_watch, observability
from service.config import Settings, get_settings

log = logging.getLogger("service.serve")


def _hand_out_the_model(settings: Settings) -> None:
    """Export the champion once and point the workers at it (they export themselves if this fails)."""
    if not settings.load_model or settings.serving_model is not None:
        return
    from risk_models import export

    try:
        text = export.document(settings.data_dir, settings.model_ref)
    except export.ExportError as exc:
        log.warning("fraud-risk model not exported for the workers: %s", exc)
        return
    path = settings.data_dir / "serving-model.json"
    model_watch.write_document(path, text)
    os.environ["CLAIMS_SERVING_MODEL"] = str(path)
    get_settings.cache_clear()  # one worker runs in this process: its settings must name the file
    if settings.model_refresh_seconds > 0:
        # A new champion reaches the workers through the document (they watch it).
        stop = threading.Event()
        threading.Thread(
            target=model_watch.publish, args=(settings, path, stop), name="model-publish", daemon=True
        ).start()


def main(argv: list[str] | None = None) -> None:
    """Run uvicorn on the service's app factory."""
    parser = argparse.ArgumentParser(prog="python -m service.serve", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--keep-alive", type=int, default=30)
    args = parser.parse_args(argv)
    settings = get_settings()
    observability.configure_logging()  # uvicorn's own lines are JSON too (it adds no handlers)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # tree models oversubscribe small hosts otherwise
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several worker processes: metrics are gathered from files every worker writes.
        folder = settings.data_dir / "prometheus"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    _hand_out_the_model(settings)
    uvicorn.run(
        "service.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        timeout_keep_alive=args.keep_alive,
        access_log=False,  # requests are logged as JSON by the app
        log_config=None,  # the root handler above formats uvicorn's records, in each worker too
    )


if __name__ == "__main__":
    sys.exit(main())
