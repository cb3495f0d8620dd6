"""Render reports as a table, CSV, JSON or HTML with charts."""

from __future__ import annotations

import csv
import html
import io
import json
from collections import Counter
from typing import Any, NamedTuple

from rich.console import Group
from rich.table import Table

from rules.charts import figure, figure_png

Rows = list[dict[str, Any]]


class Section(NamedTuple):
    """One titled table of a report; its first `keys` columns name a row, the rest are figures."""

    title: str
    rows: Rows
    keys: int = 1


def _sla_sections(report: dict[str, Any]) -> list[Section]:
    open_stages = [
        {
            "tier": tier,
            "stage": stage,
            **{k: cell.get(k, 0) for k in ("open", "running", "paused", "breached", "due_soon")},
        }
        for tier, stages in report["open_by_tier_and_stage"].items()
        for stage, cell in stages.items()
    ]
    averages = [
        {"stage": stage, "average_working_days": days}
        for stage, days in report["average_working_days_per_stage"].items()
    ]
    return [
        Section("Open claims by tier and stage", open_stages, keys=2),
        Section("Breaches", list(report["breaches"])),
        Section("Average working days per finished stage", averages),
    ]


def _kpi_sections(report: dict[str, Any]) -> list[Section]:
    tiers = []
    for tier, t in report["timeliness_by_tier"].items():
        c = report["cycle_time_working_days_by_tier"].get(tier, {})
        tiers.append(
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
    decided = sum(report["outcome_mix"].values())
    mix = [
        {"outcome": outcome, "claims": n, "share": round(n / decided, 4)}
        for outcome, n in report["outcome_mix"].items()
    ]
    payments = [{"method": method, **figures} for method, figures in report["payments_by_method"].items()]
    firings = [{"rule": rule, "claims": n} for rule, n in report["rule_firing_counts"].items()]
    return [
        Section("Timeliness and cycle time by tier", tiers),
        Section("Decisions", mix),
        Section("Investigations", [{"measure": k, "value": v} for k, v in report["investigations"].items()]),
        Section("Payments by method", payments),
        Section("Rule firings (latest adjudication of each claim)", firings),
    ]


def _quality_row(name: str, value: str, f: dict[str, Any]) -> dict[str, Any]:
    s, c, k, r = f["satisfaction"], f["complaints"], f["claims"], f["rectification"]
    return {
        name: value,
        "surveys": s["invited"],
        "response_rate": s["response_rate"],
        "satisfaction": s["average"],
        "complaints": c["received"],
        "first_response_in_sla": c["first_response_within_sla"],
        "resolved_in_sla": c["resolved_within_sla"],
        "upheld_rate": c["upheld_rate"],
        "decided": k["decided"],
        "decided_in_sla": k["decided_within_sla"],
        "document_lapses": f["document_lapses"],
        "rectified_on_time": r["closed_on_time"],
        "rectification_overdue": r["overdue_open"],
    }


def _quality_sections(report: dict[str, Any]) -> list[Section]:
    by = report["by"]
    return [
        Section("Monthly", [_quality_row("month", m["period"], m) for m in report["monthly"]]),
        Section("Quarterly summary", [_quality_row("quarter", q["period"], q) for q in report["quarterly"]]),
        Section(f"By {by}", [_quality_row(by, g[by], g) for g in report["groups"]]),
        Section("Targets", [{"measure": k, "target": v} for k, v in report["targets"].items()]),
    ]


def _fraud_sections(report: dict[str, Any]) -> list[Section]:
    return [
        Section("By line and month", list(report["rows"]), keys=2),
        Section("Total", [{"measure": k, "value": v} for k, v in report["total"].items()]),
    ]


def sections(kind: str, report: dict[str, Any]) -> list[Section]:
    """Return the report as titled tables of rows (for the terminal, CSV and HTML)."""
    if kind == "fraud":
        return _fraud_sections(report)
    if kind == "service-quality":
        return _quality_sections(report)
    return _sla_sections(report) if kind == "sla" else _kpi_sections(report)


def _title(kind: str, report: dict[str, Any]) -> str:
    if kind == "fraud":
        return f"Fraud referrals and confirmed frauds {report['from']} to {report['to']}, by line and month"
    if kind == "service-quality":
        return f"Service quality {report['from']} to {report['to']}, by {report['by']}"
    if kind == "sla":
        return f"SLA report as of {report['as_of']}"
    return f"KPI report, claims reported {report['from']} to {report['to']} ({report['claims']} claims)"


def as_table(kind: str, report: dict[str, Any]) -> Group:
    """Return one rich table per section of the report, under the report's title."""
    tables = []
    for title, data, _ in sections(kind, report):
        table = Table(*(data[0].keys() if data else ["(none)"]), title=title, title_justify="left")
        for row in data:
            table.add_row(*(str(v) for v in row.values()))
        tables.append(table)
    return Group(f"[bold]{_title(kind, report)}[/bold]", *tables)


def as_csv(kind: str, report: dict[str, Any]) -> str:
    """Return every figure as one CSV row: section, item (what the row is about), metric, value."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["section", "item", "metric", "value"])
    for title, data, keys in sections(kind, report):
        for row in data:
            cells = list(row.items())
            item = " / ".join(str(value) for _, value in cells[:keys])
            writer.writerows([title, item, metric, value] for metric, value in cells[keys:])
    return buffer.getvalue()


def as_json(report: dict[str, Any]) -> str:
    """Return the whole report as JSON."""
    return json.dumps(report, indent=2, ensure_ascii=False, default=str)


def _charts(kind: str, report: dict[str, Any]) -> list[tuple[str, str]]:
    charts = []
    if kind == "kpis" and report["cycle_time_working_days_by_tier"]:
        fig, ax = figure(figsize=(6, 3.5))
        for tier, cycle in report["cycle_time_working_days_by_tier"].items():
            ax.hist(cycle["values"], bins=range(0, max(cycle["values"]) + 2), alpha=0.6, label=tier)
        ax.set(
            xlabel="working days from report to payment or denial",
            ylabel="claims",
            title="Cycle time by tier",
        )
        ax.legend()
        charts.append(("Cycle-time distribution by tier", figure_png(fig)))
    if kind == "service-quality" and report["monthly"]:
        months = [m["period"] for m in report["monthly"]]
        fig, ax = figure(figsize=(6, 3.5))
        for label, values in (
            ("satisfaction / 5", [(m["satisfaction"]["average"] or 0) / 5 for m in report["monthly"]]),
            (
                "complaints answered in SLA",
                [m["complaints"]["first_response_within_sla"] or 0 for m in report["monthly"]],
            ),
            ("claims decided in SLA", [m["claims"]["decided_within_sla"] or 0 for m in report["monthly"]]),
        ):
            ax.plot(months, values, marker="o", label=label)
        ax.set(ylim=(0, 1.05), ylabel="share", title="Service quality by month")
        ax.legend()
        charts.append(("Service quality by month", figure_png(fig)))
    if kind == "sla" and report["breaches"]:
        weeks = Counter(b["due"][:8] + "01" if b["due"] else "unknown" for b in report["breaches"])
        fig, ax = figure(figsize=(6, 3.5))
        ax.bar(list(weeks), list(weeks.values()))
        ax.set(xlabel="month due", ylabel="breaches", title="Breaches over time")
        charts.append(("Breaches over time", figure_png(fig)))
    return charts


def _html_table(data: Rows) -> str:
    if not data:
        return "<p>(none)</p>"
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in data[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r.values()) + "</tr>" for r in data
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def as_html(kind: str, report: dict[str, Any]) -> str:
    """Return a self-contained HTML page: every section, the charts and the full JSON."""
    tables = "".join(
        f"<h2>{html.escape(title)}</h2>{_html_table(data)}" for title, data, _ in sections(kind, report)
    )
    charts = "".join(
        f"<h2>{html.escape(t)}</h2><img alt='{html.escape(t)}' src='data:image/png;base64,{p}'>"
        for t, p in _charts(kind, report)
    )
    title = html.escape(_title(kind, report))
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>{title}</h1>{tables}{charts}"
        f"<h2>Full report</h2><pre>{html.escape(as_json(report))}</pre></body></html>"
    )
