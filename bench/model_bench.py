"""Fraud-risk scoring: single-claim latency with explanations, and batch throughput."""

import time
from pathlib import Path

from rich.console import Console

from bench.common import machine, save, summarize
from risk_models import synth, tabular
from risk_models.features import ClaimFeatures
from risk_models.scorer import Scorer
from risk_models.train import TrainConfig, train

TRAIN_ROWS = 100_000
SINGLE = 5_000
SHARED_TABLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "insurance_claims.csv"
BATCH = 200_000


def main() -> None:
    """Train on generated claims, then time the scorer the service uses."""
    console = Console()
    console.print(f"[bold]fraud-risk scoring[/bold] on {machine()}")
    start = time.perf_counter()
    data = synth.generate(TRAIN_ROWS, seed=7)
    result = train(data, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=7))
    train_seconds = time.perf_counter() - start
    m = result.metrics
    console.print(
        f"trained on {TRAIN_ROWS:,} claims in {train_seconds:.1f} s: out-of-time ROC-AUC "
        f"{m['roc_auc']:.4f}, PR-AUC {m['pr_auc']:.4f}, recall@10% {m['recall_at_10pct']:.4f} "
        f"(baseline ROC-AUC {result.baseline_metrics['baseline_roc_auc']:.4f}), "
        f"shuffled-CV ROC-AUC {m['shuffled_cv_roc_auc']:.4f}"
    )
    scorer = Scorer(result.model, "bench")
    claims = synth.generate(SINGLE, seed=8).to_dict("records")
    for claim in claims[:300]:
        scorer.score(claim)  # warm up
    timings = []
    clock = time.perf_counter
    for claim in claims:
        t0 = clock()
        scorer.score(claim)
        timings.append(clock() - t0)
    single = summarize(timings)
    console.print(
        f"single claim with top-5 factors (n={SINGLE:,}): median {single['median_ms']:.3f} ms, "
        f"p99 {single['p99_ms']:.3f} ms, max {single['max_ms']:.3f} ms"
    )
    batch = synth.generate(BATCH, seed=9)
    t0 = clock()
    scored = result.model.score_table(batch)
    batch_seconds = clock() - t0
    console.print(
        f"batch of {len(scored):,} claims: {batch_seconds:.2f} s = "
        f"{len(scored) / batch_seconds:,.0f} claims/s"
    )
    generic = _generic(console)
    path = save(
        "model",
        {
            "machine": machine(),
            "train_rows": TRAIN_ROWS,
            "train_seconds": train_seconds,
            "metrics": result.metrics,
            "baseline_metrics": result.baseline_metrics,
            "single": single,
            "batch": {
                "n": len(scored),
                "seconds": batch_seconds,
                "per_second": len(scored) / batch_seconds,
            },
            "generic": generic,
        },
    )
    console.print(f"saved {path}")


def _generic(console: Console) -> dict:
    """Train in generic mode on the shared public table, over several seeds."""
    if not SHARED_TABLE.exists():
        console.print(f"(skipped generic mode: {SHARED_TABLE} not found)")
        return {}
    table = tabular.read_table(SHARED_TABLE)
    table["fraud_reported"] = tabular.label_vector(table["fraud_reported"])
    features = tabular.TableFeatures("fraud_reported").assign(table)
    rows = {}
    for seed in (7, 1, 2, 3, 4, 5):
        r = train(table, features, "fraud_reported", "incident_date", TrainConfig(seed=seed))
        b = r.baseline_metrics
        rows[seed] = {
            "roc_auc": r.metrics["roc_auc"],
            "pr_auc": r.metrics["pr_auc"],
            "baseline_roc_auc": b["baseline_roc_auc"],
            "baseline_pr_auc": b["baseline_pr_auc"],
            "shuffled_cv_roc_auc": r.metrics["shuffled_cv_roc_auc"],
        }
        console.print(
            f"generic mode, insurance_claims.csv, seed {seed}: ROC-AUC {r.metrics['roc_auc']:.4f} "
            f"(baseline {b['baseline_roc_auc']:.4f}), PR-AUC {r.metrics['pr_auc']:.4f} "
            f"(baseline {b['baseline_pr_auc']:.4f}), shuffled-CV ROC-AUC "
            f"{r.metrics['shuffled_cv_roc_auc']:.4f}"
        )
    return rows
