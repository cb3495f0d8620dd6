"""Keeping the serving model current: a new champion reaches running workers without a restart.

`claims serve`'s own process asks the registry for the champion every
`CLAIMS_MODEL_REFRESH_SECONDS` (the short-lived export process it runs at start-up) and
rewrites the serving document when the version changed. Each worker watches that file and
swaps its scorer between requests: a request keeps the scorer it started with, and every
decision record names the version that scored it. A document that cannot be read, or whose
model cannot read the service's claims, leaves the old model serving; the failure is logged
and shown on `/readyz` and `/metrics`.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from prometheus_client import Counter

from risk_models.scorer import Scorer
from service import observability
from service.config import Settings
from service.runtime import Runtime, unfit

log = logging.getLogger("service.model")
FAILED = Counter(
    "claims_model_updates_failed_total",
    "New serving documents a worker could not load (the old model serves)",
)


def write_document(path: Path, text: str) -> None:
    """Replace the serving document whole: a worker never reads half of one."""
    partial = path.with_suffix(".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _version(text: str) -> str | None:
    try:
        return str(json.loads(text).get("version"))
    except ValueError:
        return None


def publish_once(settings: Settings, path: Path) -> bool:
    """Ask the registry for the champion; rewrite the document if its version changed."""
    from risk_models import export

    text = export.document(settings.data_dir, settings.model_ref)
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if _version(text) == _version(current):
        return False
    write_document(path, text)
    log.info("serving document updated to version %s", _version(text))
    return True


def publish(settings: Settings, path: Path, stop: threading.Event) -> None:
    """Keep the serving document on the registry's champion until `stop` is set."""
    from risk_models.export import ExportError

    while not stop.wait(settings.model_refresh_seconds):
        try:
            publish_once(settings, path)
        except ExportError as exc:  # the registry is away for a moment: the workers keep theirs
            log.warning("champion not re-read from the registry: %s", exc)


class Watcher:
    """One worker's watch on its serving document."""

    def __init__(self, runtime: Runtime, path: Path) -> None:
        self.runtime = runtime
        self.path = path
        self.seen = self._stamp()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def check(self) -> bool:
        """Load the document if it changed since last seen; return whether the scorer changed."""
        stamp = self._stamp()
        if stamp is None or stamp == self.seen:
            return False
        self.seen = stamp
        rt = self.runtime
        try:
            scorer = Scorer.from_json(self.path.read_text(encoding="utf-8"))
            problem = unfit(scorer)
        except Exception as exc:  # a bad document: the old model keeps serving
            problem = f"the new serving document could not be loaded: {exc}"
        if problem:
            FAILED.inc()
            kept = f"fraud-risk@{rt.scorer.version}" if rt.scorer else "no model"
            rt.model_error = f"update refused, {kept} kept: {problem}"
            log.warning("fraud-risk model update refused: %s", problem)
            return False
        if rt.scorer is not None and rt.scorer.version == scorer.version:
            return False
        rt.scorer, rt.model_error = scorer, None  # one assignment: requests read it once each
        observability.record_versions({}, scorer.version)
        log.info("fraud-risk model switched to version %s", scorer.version)
        return True

    def run(self, stop: threading.Event, interval: float) -> None:
        """Check every `interval` seconds until `stop` is set."""
        while not stop.wait(interval):
            self.check()
