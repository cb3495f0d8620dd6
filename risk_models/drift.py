"""Population stability of the model's inputs and score: recent claims against training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from risk_models.charts import figure, save
from risk_models.stability import FLAG, MISSING, numeric_shares, psi

__all__ = ["FLAG", "compare", "plot", "profile", "psi"]
_MISSING = MISSING


def _numeric_profile(values: np.ndarray) -> dict[str, Any]:
    present = values[~np.isnan(values)]
    edges = np.unique(np.quantile(present, np.linspace(0, 1, 11)[1:-1])) if len(present) else []
    return {
        "kind": "numeric",
        "edges": [float(e) for e in edges],
        "shares": _numeric_shares(values, edges),
    }


_numeric_shares = numeric_shares


def _categorical_profile(values: pd.Series) -> dict[str, Any]:
    shares = values.fillna(_MISSING).astype(str).value_counts(normalize=True)
    return {"kind": "categorical", "shares": {str(k): float(v) for k, v in shares.items()}}


def profile(features: pd.DataFrame, scores: np.ndarray) -> dict[str, Any]:
    """Summarize the training population: decile bins per numeric feature, shares per category."""
    out: dict[str, Any] = {}
    for name in features.columns:
        column = features[name]
        if column.dtype == object:
            out[name] = _categorical_profile(column)
        else:
            out[name] = _numeric_profile(column.to_numpy(dtype=float))
    out["score"] = _numeric_profile(np.asarray(scores, dtype=float))
    return out


def compare(reference: dict[str, Any], features: pd.DataFrame, scores: np.ndarray) -> pd.DataFrame:
    """Return PSI per feature and for the score, recent against the reference, worst first."""
    rows = []
    columns = {**{c: features[c] for c in features.columns}, "score": pd.Series(scores)}
    for name, ref in reference.items():
        if name not in columns:
            continue
        column = columns[name]
        if ref["kind"] == "numeric":
            actual = _numeric_shares(column.to_numpy(dtype=float), ref["edges"])
            value = psi(ref["shares"], actual)
        else:
            recent = column.fillna(_MISSING).astype(str).value_counts(normalize=True)
            levels = sorted(set(ref["shares"]) | set(recent.index))
            value = psi([ref["shares"].get(k, 0.0) for k in levels], [recent.get(k, 0.0) for k in levels])
        rows.append({"feature": name, "psi": round(value, 4), "drifted": value > FLAG})
    return pd.DataFrame(rows).sort_values("psi", ascending=False, kind="stable").reset_index(drop=True)


def plot(report: pd.DataFrame, path: Path) -> Path:
    """Draw PSI per feature with the watch (0.1) and flag (0.2) lines."""
    fig, ax = figure(figsize=(7, 0.3 * len(report) + 1.2))
    ordered = report.iloc[::-1]
    colors = ["#c0392b" if d else "#2e86c1" for d in ordered["drifted"]]
    ax.barh(ordered["feature"], ordered["psi"], color=colors)
    ax.axvline(0.1, color="k", ls=":", lw=0.8)
    ax.axvline(FLAG, color="#c0392b", ls="--", lw=0.8)
    ax.set(xlabel="population stability index", title="Drift: recent claims vs training")
    return save(fig, path)
