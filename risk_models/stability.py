"""Population stability with numpy only: what a serving process needs to watch its own drift.

`drift` (training side, with pandas) and the serving model's window of recent claims share
these definitions, so a PSI on `/metrics` means what `claims model drift` reports.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from threading import Lock
from typing import Any

import numpy as np

FLAG = 0.2  # PSI above this: the population has shifted; 0.1-0.2 is worth watching
# Fewer claims than this say nothing about a population (a few claims after a start would
# show every feature drifted): no PSI until the window holds this many.
MIN_WINDOW = 200
EPS = 1e-4
MISSING = "(missing)"


def numeric_shares(values: np.ndarray, edges: Any) -> list[float]:
    """Shares of values per bin between the edges, and the share missing last."""
    edges = np.asarray(edges, dtype=float)
    missing = np.isnan(values)
    counts = np.bincount(np.searchsorted(edges, values[~missing], side="right"), minlength=len(edges) + 1)
    counts = np.append(counts, missing.sum()).astype(float)
    return list(counts / max(len(values), 1))


def psi(expected: Any, actual: Any) -> float:
    """Return the population stability index between two share vectors."""
    e = np.clip(np.asarray(expected, dtype=float), EPS, None)
    a = np.clip(np.asarray(actual, dtype=float), EPS, None)
    return float(np.sum((a - e) * np.log(a / e)))


def column_psi(reference: Mapping[str, Any], values: list[Any]) -> float:
    """PSI of one column's recent values against its training profile (numeric or categorical)."""
    if reference["kind"] == "numeric":
        numbers = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
        return psi(reference["shares"], numeric_shares(numbers, reference["edges"]))
    texts = [MISSING if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values]
    levels = sorted(set(reference["shares"]) | set(texts))
    counts = {k: 0 for k in levels}
    for t in texts:
        counts[t] += 1
    total = max(len(texts), 1)
    return psi([reference["shares"].get(k, 0.0) for k in levels], [counts[k] / total for k in levels])


class Window:
    """The last `size` claims a process scored (their features and score), to compare with the
    training population without storing anything."""

    def __init__(self, size: int = 2000) -> None:
        self.rows: deque[tuple[Mapping[str, Any], float]] = deque(maxlen=size)
        self._lock = Lock()

    def add(self, features: Mapping[str, Any], score: float) -> None:
        """Keep one scored claim (the oldest falls out)."""
        with self._lock:
            self.rows.append((features, score))

    def psi(self, reference: Mapping[str, Any], least: int = MIN_WINDOW) -> dict[str, float]:
        """PSI per feature and for the score, over the window (empty while it holds fewer than
        `least` claims)."""
        with self._lock:
            rows = list(self.rows)
        if not rows or len(rows) < least:
            return {}
        out = {}
        for name, ref in reference.items():
            values = [score for _, score in rows] if name == "score" else [f.get(name) for f, _ in rows]
            out[name] = round(column_psi(ref, values), 4)
        return out
