"""Render reports as a table, CSV, JSON or HTML with charts."""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from rich.table import Table

from rules.backtest import figure_png


def rows(kind: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten a report into rows (for table and CSV)."""
    if kind == "sla":
        out = []
        for tier, stages in report["open_by_tier_and_stage"].items():
            for stage, cell in stages.items():
                out.append(
                    {
                        "tier": tier,
                        "stage": stage,
                        **{k: cell.get(k, 0) for k in ("open", "running", "paused", "breached", "due_soon")},
                    }
                )
        return out
    out = []
    for tier, t in report["timeliness_by_tier"].items():
        c = report["cycle_time_working_days_by_tier"].get(tier, {})
        out.append(
            {
                "tier": tier,
                "decided": t.get("decided", 0),
                "decided_on_time_share": t["decided_on_time_share"],
                "paid": t.get("paid", 0),
                "paid_on_time_share": t["paid_on_time_share"],
                "cycle_avg_working_days": c.get("average"),
                "cycle_p90_working_days": c.get("p90"),
            }
        )
    return out


def as_table(kind: str, report: dict[str, Any]) -> Table:
    """Return a rich table of the report's main rows."""
    data = rows(kind, report)
    table = Table(*(data[0].keys() if data else ["(no rows)"]), title=f"{kind} report")
    for row in data:
        table.add_row(*(str(v) for v in row.values()))
    return table


def as_csv(kind: str, report: dict[str, Any]) -> str:
    """Return the report's rows as CSV."""
    data = rows(kind, report)
    buffer = io.StringIO()
    if data:
        writer = csv.DictWriter(buffer, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)
    return buffer.getvalue()


def as_json(report: dict[str, Any]) -> str:
    """Return the whole report as JSON."""
    return json.dumps(report, indent=2, ensure_ascii=False, default=str)


def _charts(kind: str, report: dict[str, Any]) -> list[tuple[str, str]]:
    charts = []
    if kind == "kpis" and report["cycle_time_working_days_by_tier"]:
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for tier, cycle in report["cycle_time_working_days_by_tier"].items():
            ax.hist(cycle["values"], bins=range(0, max(cycle["values"]) + 2), alpha=0.6, label=tier)
        ax.set(
            xlabel="working days from report to payment or denial",
            ylabel="claims",
            title="Cycle time by tier",
        )
        ax.legend()
        charts.append(("Cycle-time distribution by tier", figure_png(fig)))
    if kind == "sla" and report["breaches"]:
        weeks = Counter(b["due"][:8] + "01" if b["due"] else "unknown" for b in report["breaches"])
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.bar(list(weeks), list(weeks.values()))
        ax.set(xlabel="month due", ylabel="breaches", title="Breaches over time")
        charts.append(("Breaches over time", figure_png(fig)))
    return charts


def as_html(kind: str, report: dict[str, Any]) -> str:
    """Return a self-contained HTML page: the rows, the charts and the full JSON."""
    data = rows(kind, report)
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in (data[0] if data else {}))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in data
    )
    charts = "".join(
        f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{p}'>"
        for t, p in _charts(kind, report)
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{kind} report</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>{kind.upper()} report</h1><table><tr>{head}</tr>{body}</table>{charts}"
        f"<h2>Full report</h2><pre>{html.escape(as_json(report))}</pre></body></html>"
    )
