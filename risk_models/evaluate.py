"""Model metrics at the investigation budget, and the plots logged with every run."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from risk_models.charts import figure, save

BUDGETS = (0.01, 0.02, 0.05, 0.10, 0.20)


def at_budget(y: np.ndarray, score: np.ndarray, budget: float) -> tuple[float, float]:
    """Return precision and recall when the top `budget` share of claims is investigated."""
    k = max(1, math.ceil(budget * len(score)))
    top = np.argsort(-score, kind="stable")[:k]
    hits = float(y[top].sum())
    positives = float(y.sum())
    return hits / k, (hits / positives if positives else 0.0)


def metrics(y: np.ndarray, score: np.ndarray, prefix: str = "") -> dict[str, float]:
    """Return ROC-AUC, PR-AUC, Brier score and precision/recall at the top 5% and 10%."""
    y = np.asarray(y, dtype=int)
    out = {
        "roc_auc": float(roc_auc_score(y, score)),
        "pr_auc": float(average_precision_score(y, score)),
        "brier": float(brier_score_loss(y, np.clip(score, 0, 1))),
        "base_rate": float(y.mean()),
        "n": float(len(y)),
    }
    for budget in (0.05, 0.10):
        precision, recall = at_budget(y, score, budget)
        pct = int(budget * 100)
        out[f"precision_at_{pct}pct"] = precision
        out[f"recall_at_{pct}pct"] = recall
    return {f"{prefix}{k}": v for k, v in out.items()}


def budget_table(y: np.ndarray, score: np.ndarray) -> list[dict[str, float]]:
    """Return precision and recall at several investigation budgets (the alert-budget table)."""
    rows = []
    for budget in BUDGETS:
        precision, recall = at_budget(np.asarray(y, dtype=int), score, budget)
        rows.append({"budget": budget, "precision": precision, "recall": recall})
    return rows


def plots(
    y: np.ndarray,
    score: np.ndarray,
    baseline: np.ndarray | None,
    importances: dict[str, float],
    folder: Path,
) -> list[Path]:
    """Write ROC, precision-recall, calibration, score-by-label and importance plots."""
    folder.mkdir(parents=True, exist_ok=True)
    y = np.asarray(y, dtype=int)
    series = [("model", score)] + ([("logistic baseline", baseline)] if baseline is not None else [])
    written = []

    fig, ax = figure(figsize=(5, 5))
    for name, s in series:
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"{name} (AUC {roc_auc_score(y, s):.3f})")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC, holdout")
    ax.legend(loc="lower right")
    written.append(save(fig, folder / "roc.png"))

    fig, ax = figure(figsize=(5, 5))
    for name, s in series:
        precision, recall, _ = precision_recall_curve(y, s)
        ax.plot(recall, precision, label=f"{name} (AP {average_precision_score(y, s):.3f})")
    ax.axhline(y.mean(), color="k", ls=":", lw=0.8)
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall, holdout")
    ax.legend(loc="upper right")
    written.append(save(fig, folder / "precision_recall.png"))

    fig, ax = figure(figsize=(5, 5))
    observed, predicted = calibration_curve(y, np.clip(score, 0, 1), n_bins=10, strategy="quantile")
    ax.plot(predicted, observed, "o-", label="model")
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="predicted probability", ylabel="observed fraud rate", title="Calibration")
    written.append(save(fig, folder / "calibration.png"))

    fig, ax = figure(figsize=(6, 4))
    bins = np.linspace(0, 1, 41)
    ax.hist(score[y == 0], bins=bins, alpha=0.6, density=True, label="honest")
    ax.hist(score[y == 1], bins=bins, alpha=0.6, density=True, label="fraud")
    ax.set(xlabel="score", ylabel="density", title="Score distribution by label", yscale="log")
    ax.legend()
    written.append(save(fig, folder / "score_distribution.png"))

    fig, ax = figure(figsize=(6, 0.3 * len(importances) + 1))
    ordered = sorted(importances.items(), key=lambda kv: kv[1])
    ax.barh([k for k, _ in ordered], [v for _, v in ordered])
    ax.set(xlabel="total gain", title="Feature importance (global)")
    written.append(save(fig, folder / "feature_importance.png"))
    return written
