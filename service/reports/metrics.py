"""SLA state for Prometheus: the open claims' stage clocks, read from the database when scraped.

A gauge of what is late now, rather than a counter bumped whenever a late claim is shown: the
figure does not depend on who looked at which claim, and every worker reports the same.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from service.feed import service as feed
from service.feed import webhooks
from service.reports.service import open_board
from service.runtime import Runtime


class SlaCollector(Collector):
    """Open stage clocks and breaches by tier and stage, recomputed at most every `max_age` seconds.

    Computing them reads every open claim: a scrape every few seconds must not do that each time.
    """

    def __init__(self, runtime: Runtime, max_age: float) -> None:
        self.runtime = runtime
        self.max_age = max_age
        self.now = lambda: dt.datetime.now(dt.UTC)  # the moment the clocks are read at
        self._lock = threading.Lock()
        self._at = -float("inf")
        self._board: dict[str, dict[str, Counter]] = {}

    def _fresh_board(self) -> dict[str, dict[str, Counter]]:
        with self._lock:
            if time.monotonic() - self._at >= self.max_age:
                with self.runtime.readers() as session:
                    self._board = open_board(session, self.runtime, self.now())
                self._at = time.monotonic()
            return self._board

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the open and breached stage clocks."""
        open_clocks = GaugeMetricFamily(
            "claims_sla_open_stages",
            "Running or paused SLA stage clocks of open claims, by tier, stage and state",
            labels=["tier", "stage", "state"],
        )
        breached = GaugeMetricFamily(
            "claims_sla_breached_stages",
            "Open claims' stage clocks past their allowed working days, by tier and stage",
            labels=["tier", "stage"],
        )
        for tier, stages in self._fresh_board().items():
            for stage, cell in stages.items():
                for state in ("running", "paused"):
                    open_clocks.add_metric([tier, stage, state], cell[state])
                breached.add_metric([tier, stage], cell["breached"])
        yield open_clocks
        yield breached


class DriftCollector(Collector):
    """The drift of the claims the serving model scored lately (PSI per feature and for the
    score, over the last claims this worker scored), against the population it was trained on.

    Each worker holds its own window (about its share of the traffic); nothing is stored.
    """

    def __init__(self, runtime: Runtime, threshold: float) -> None:
        self.runtime = runtime
        self.threshold = threshold

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the PSI per feature, how many are past the threshold, and the window's size."""
        scorer = self.runtime.scorer
        model = scorer.model if scorer is not None else None
        psi = GaugeMetricFamily(
            "claims_model_psi",
            "Population stability of the serving model's recent claims against its training data",
            labels=["feature", "version"],
        )
        drifted = GaugeMetricFamily(
            "claims_model_drifted_features",
            "Features (and the score) whose PSI is above CLAIMS_MODEL_DRIFT_THRESHOLD",
            labels=["version"],
        )
        window = GaugeMetricFamily("claims_model_drift_window", "Recent claims the PSI is computed over")
        if model is not None and model.reference is not None:
            values = model.window.psi(model.reference)
            for feature, value in sorted(values.items()):
                psi.add_metric([feature, scorer.version], value)
            drifted.add_metric([scorer.version], sum(v > self.threshold for v in values.values()))
            window.add_metric([], len(model.window.rows))
        yield from (psi, drifted, window)


class WebhookCollector(Collector):
    """Each webhook's backlog and failures in a row, read when scraped (a few rows, one query each)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Yield the events waiting for each subscription and its failed attempts since the last success."""
        backlog = GaugeMetricFamily(
            "claims_webhook_backlog_events", "Feed events not yet delivered, by webhook", labels=["webhook"]
        )
        failing = GaugeMetricFamily(
            "claims_webhook_failures", "Failed delivery attempts in a row, by webhook", labels=["webhook"]
        )
        with self.runtime.readers() as session:
            head = feed.head(session)
            for hook in webhooks.listing(session):
                if hook.active:
                    backlog.add_metric([str(hook.id)], webhooks.backlog(hook, head))
                    failing.add_metric([str(hook.id)], hook.failures)
        yield backlog
        yield failing
