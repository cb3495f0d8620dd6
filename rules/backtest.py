"""Backtest a candidate rulebook against a baseline on historical claims, all at once."""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
import pandas as pd

from rules import batch
from rules.charts import figure, figure_png
from rules.rulebook import Rulebook

EXAMPLES = 25


def _rates(result: batch.BatchResult) -> dict[str, float]:
    return {r.id: round(float(result.fired[:, i].mean()), 6) for i, r in enumerate(result.rulebook.rules)}


def _together(result: batch.BatchResult) -> list[list[str]]:
    """Groups of rules that fire on exactly the same claims (and fire at all)."""
    groups: dict[bytes, list[str]] = {}
    for i, rule in enumerate(result.rulebook.rules):
        column = result.fired[:, i]
        if column.any():
            groups.setdefault(np.packbits(column).tobytes(), []).append(rule.id)
    return [ids for ids in groups.values() if len(ids) > 1]


def _matrix(before: np.ndarray, after: np.ndarray) -> dict[str, dict[str, int]]:
    table = pd.crosstab(pd.Series(before, name="baseline"), pd.Series(after, name="candidate"))
    return {str(k): {str(c): int(v) for c, v in row.items() if v} for k, row in table.iterrows()}


def own_line(rulebook: Rulebook, claims: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Keep the claims of the rulebook's product line; say how many were set aside, and why."""
    if "product" not in claims:
        return claims, {"product_column": False, "kept": len(claims), "set_aside": {}}
    products = claims["product"].astype(object).where(claims["product"].notna(), "(none)")
    mine = (products == rulebook.name).to_numpy()
    others = products[~mine].value_counts()
    aside = {str(k): int(v) for k, v in others.items()}
    return claims[mine].reset_index(drop=True), {
        "product_column": True,
        "kept": int(mine.sum()),
        "set_aside": aside,
    }


def missing_facts(rulebook: Rulebook, claims: pd.DataFrame) -> list[dict[str, Any]]:
    """Every fact the rulebook declares that the input lacks, and how the evaluation treated it."""
    out = []
    for name, spec in rulebook.facts.items():
        if name in claims:
            continue
        if name == "documents_received":
            treated = "no documents received: every required document counts as missing"
        elif spec.required:
            treated = "absent on every claim although required: every comparison on it is false"
        else:
            treated = "absent (optional): every comparison on it is false, missing() is true"
        out.append({"fact": name, "required": spec.required, "treated_as": treated})
    return out


def backtest(baseline: Rulebook, candidate: Rulebook, claims: pd.DataFrame) -> dict[str, Any]:
    """Compare two rulebook versions on the claims of their product line; return the report as data.

    Rows of other product lines are set aside (and counted); every declared fact the input
    lacks is named with how it was treated, so a file that does not fit cannot pass unnoticed.
    """
    claims, scope = own_line(candidate, claims)
    lacking = {f["fact"]: f for f in [*missing_facts(baseline, claims), *missing_facts(candidate, claims)]}
    prepared = batch.Prepared(claims)  # both versions read each shared fact from one encoding
    old, new = batch.evaluate(baseline, prepared), batch.evaluate(candidate, prepared)
    coverage_changed = old.coverage != new.coverage
    route_changed = old.route != new.route
    amount_changed = old.payable_cents != new.payable_cents
    investigate_changed = old.investigate != new.investigate
    any_change = coverage_changed | route_changed | amount_changed | investigate_changed
    ids = (
        claims["claim_number"].astype(str).to_numpy()
        if "claim_number" in claims
        else np.arange(len(claims)).astype(str)
    )
    examples = [
        {
            "claim": ids[i],
            "coverage": [old.coverage[i], new.coverage[i]],
            "route": [old.route[i], new.route[i]],
            "payable_amount": [f"{old.payable_cents[i] / 100:.2f}", f"{new.payable_cents[i] / 100:.2f}"],
            "investigate": [bool(old.investigate[i]), bool(new.investigate[i])],
        }
        for i in np.flatnonzero(any_change)[:EXAMPLES]
    ]
    report: dict[str, Any] = {
        "baseline": {"name": baseline.name, "version": baseline.version, "sha256": baseline.sha256},
        "candidate": {"name": candidate.name, "version": candidate.version, "sha256": candidate.sha256},
        "claims": len(claims),
        "scope": scope,
        "missing_facts": list(lacking.values()),
        "changed": {
            "any": int(any_change.sum()),
            "coverage": int(coverage_changed.sum()),
            "route": int(route_changed.sum()),
            "payable_amount": int(amount_changed.sum()),
            "investigate": int(investigate_changed.sum()),
        },
        "coverage_transitions": _matrix(old.coverage, new.coverage),
        "route_transitions": _matrix(old.route, new.route),
        "payable_total": {
            "baseline": f"{old.payable_cents.sum() / 100:.2f}",
            "candidate": f"{new.payable_cents.sum() / 100:.2f}",
            "delta": f"{(new.payable_cents.sum() - old.payable_cents.sum()) / 100:.2f}",
        },
        "rule_firing_rates": {"baseline": _rates(old), "candidate": _rates(new)},
        "never_fire": {
            "baseline": [r.id for i, r in enumerate(baseline.rules) if not old.fired[:, i].any()],
            "candidate": [r.id for i, r in enumerate(candidate.rules) if not new.fired[:, i].any()],
        },
        "always_fire_together": {"baseline": _together(old), "candidate": _together(new)},
        "examples": examples,
    }
    if "investigation_outcome" in claims:
        outcome = claims["investigation_outcome"].astype(object).to_numpy()
        fraud, cleared = outcome == "confirmed_fraud", outcome == "cleared"
        report["investigations"] = {
            "confirmed_frauds": int(fraud.sum()),
            "confirmed_frauds_sent_to_investigation": {
                "baseline": int((old.investigate & fraud).sum()),
                "candidate": int((new.investigate & fraud).sum()),
            },
            "cleared_claims_held_up": {
                "baseline": int((old.investigate & cleared).sum()),
                "candidate": int((new.investigate & cleared).sum()),
            },
        }
    report["_payable_delta_cents"] = (new.payable_cents - old.payable_cents)[any_change].tolist()[:50_000]
    return report


def to_json(report: dict[str, Any]) -> str:
    """Return the report as JSON (without the raw deltas used for plotting)."""
    return json.dumps(
        {k: v for k, v in report.items() if not k.startswith("_")}, indent=2, ensure_ascii=False
    )


def _table(head: list[str], rows: list[list[Any]]) -> str:
    cells = "".join(f"<th>{html.escape(str(h))}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return (
        f"<table border='1' cellpadding='4' style='border-collapse:collapse'><tr>{cells}</tr>{body}</table>"
    )


def _matrix_table(matrix: dict[str, dict[str, int]]) -> str:
    after = sorted({c for row in matrix.values() for c in row})
    rows = [[f"{before} →", *(matrix[before].get(c, "") for c in after)] for before in sorted(matrix)]
    return _table(["baseline ↓ / candidate →", *after], rows)


def tables_html(report: dict[str, Any]) -> str:
    """The report's scope, lacking facts, transition matrices and changed claims as HTML tables."""
    scope = report["scope"]
    aside = ", ".join(f"{k}: {v:,}" for k, v in scope["set_aside"].items()) or "none"
    line = report["candidate"]["name"]
    kept = (
        f"{scope['kept']:,} claims of {line} evaluated; set aside (other lines): {aside}"
        if scope["product_column"]
        else f"no product column: all {scope['kept']:,} rows taken as {report['candidate']['name']} claims"
    )
    parts = [f"<h2>Scope</h2><p>{html.escape(kept)}</p>"]
    lacking = report["missing_facts"]
    parts.append("<h2>Facts the input lacks</h2>")
    parts.append(
        _table(
            ["fact", "required", "treated as"], [[f["fact"], f["required"], f["treated_as"]] for f in lacking]
        )
        if lacking
        else "<p>none: every declared fact is a column of the input</p>"
    )
    for title, key in (
        ("Coverage transitions", "coverage_transitions"),
        ("Route transitions", "route_transitions"),
    ):
        parts.append(f"<h2>{title}</h2>{_matrix_table(report[key])}")
    flips = [
        [
            e["claim"],
            *(
                " → ".join(str(v) for v in e[k])
                for k in ("coverage", "route", "payable_amount", "investigate")
            ),
        ]
        for e in report["examples"]
    ]
    parts.append(f"<h2>Claims that change (first {EXAMPLES})</h2>")
    parts.append(
        _table(["claim", "coverage", "route", "payable amount", "investigate"], flips)
        if flips
        else "<p>none</p>"
    )
    return "".join(parts)


def to_html(report: dict[str, Any]) -> str:
    """Return a self-contained HTML report with plots."""
    rates = report["rule_firing_rates"]
    rules = sorted(set(rates["baseline"]) | set(rates["candidate"]))
    fig, ax = figure(figsize=(7, 0.28 * len(rules) + 1.2))
    y = np.arange(len(rules))
    ax.barh(y - 0.2, [rates["baseline"].get(r, 0) for r in rules], height=0.4, label="baseline")
    ax.barh(y + 0.2, [rates["candidate"].get(r, 0) for r in rules], height=0.4, label="candidate")
    ax.set_yticks(y, rules)
    ax.set(xlabel="share of claims", title="Rule firing rates")
    ax.legend()
    charts = [("Rule firing rates", figure_png(fig))]
    deltas = np.asarray(report["_payable_delta_cents"], dtype=float) / 100
    if deltas.any():  # only when some amount changes
        fig, ax = figure(figsize=(6, 3.5))
        ax.hist(deltas, bins=50)
        ax.set(xlabel="payable amount change per changed claim (CNY)", ylabel="claims", title="Payable delta")
        charts.append(("Payable delta", figure_png(fig)))
    images = "".join(f"<h2>{t}</h2><img alt='{t}' src='data:image/png;base64,{p}'>" for t, p in charts)
    head = f"{report['baseline']['name']} {report['baseline']['version']} → {report['candidate']['version']}"
    summary = (
        f"<p>{report['claims']:,} claims; changed: {report['changed']['any']:,} "
        f"(coverage {report['changed']['coverage']:,}, route {report['changed']['route']:,}, amount "
        f"{report['changed']['payable_amount']:,}); payable delta {report['payable_total']['delta']}</p>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>backtest</title></head><body "
        "style='font-family:sans-serif;margin:2em'>"
        f"<h1>Backtest: {html.escape(head)}</h1>{summary}{tables_html(report)}{images}"
        f"<h2>Full report</h2><pre>{html.escape(to_json(report))}</pre></body></html>"
    )
