"""SLA and KPI reports over HTTP and from the command line."""

import csv
import datetime as dt
import io
import json

from rich.console import Console
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import get_settings
from service.reports import render
from tests.service.conftest import headers


def _period():
    today = dt.date.today()
    return (today - dt.timedelta(days=40)).isoformat(), today.isoformat()


def test_kpis_count_what_happened(flow):
    paid = flow.approved_claim()
    flow.pay(paid, "kpi-key-0001")
    denied = flow.report(facts={"driver_intoxicated": True})  # denied at once: no documents asked
    flow.call(
        "specialist",
        "POST",
        f"/v1/claims/{denied['claim_number']}/decision",
        {
            "outcome": "deny",
            "reason_codes": ["DRUNK_DRIVING"],
            "explanation": {"zh-CN": "不予赔付。", "en": "Excluded."},
        },
    )
    start, end = _period()
    report = flow.call("analyst", "GET", f"/v1/reports/kpis?from={start}&to={end}")
    assert report["claims"] >= 2
    assert report["outcome_mix"]["denied"] >= 1 and report["outcome_mix"].get("approved", 0) >= 1
    simple = report["timeliness_by_tier"]["simple"]
    assert simple["paid"] >= 1 and simple["paid_on_time_share"] == 1.0
    assert report["payments_by_method"]["bank_transfer"]["count"] >= 1
    assert report["rule_firing_counts"]["MOT-COV-001"] >= 2
    assert report["rule_firing_counts"]["MOT-EXC-003"] >= 1
    assert report["investigations"]["referral_rate"] is not None
    # Every section reaches every format, not only the table by tier.
    rows = list(csv.reader(io.StringIO(render.as_csv("kpis", report))))
    assert rows[0] == ["section", "item", "metric", "value"]
    mix = report["outcome_mix"]
    assert ["Decisions", "denied", "claims", str(mix["denied"])] in rows
    assert ["Decisions", "denied", "share", str(round(mix["denied"] / sum(mix.values()), 4))] in rows
    bank = report["payments_by_method"]["bank_transfer"]
    assert ["Payments by method", "bank_transfer", "amount", bank["amount"]] in rows
    firings = report["rule_firing_counts"]
    assert [
        "Rule firings (latest adjudication of each claim)",
        "MOT-EXC-003",
        "claims",
        str(firings["MOT-EXC-003"]),
    ] in rows
    assert ["Investigations", "referred", "value", str(report["investigations"]["referred"])] in rows
    page = render.as_html("kpis", report)
    for title in ("Timeliness and cycle time by tier", "Decisions", "Investigations", "Payments by method"):
        assert f"<h2>{title}</h2><table>" in page
    assert "<h2>Cycle-time distribution by tier</h2><img" in page


def test_sla_report_lists_breaches_by_tier_and_stage(flow):
    old = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    incident = (dt.datetime.now() - dt.timedelta(days=31)).replace(microsecond=0).isoformat()
    late = flow.send_documents(flow.report(report_date=old, incident_at=incident))
    report = flow.call("senior_reviewer", "GET", "/v1/reports/sla")
    mine = [b for b in report["breaches"] if b["claim_number"] == late["claim_number"]]
    assert [b["stage"] for b in mine] == ["document_request"]
    tier = late["route"]
    assert report["open_by_tier_and_stage"][tier]["review"]["open"] >= 1
    assert report["average_working_days_per_stage"]["document_request"] is not None
    rows = list(csv.reader(io.StringIO(render.as_csv("sla", report))))
    assert ["Breaches", late["claim_number"], "stage", "document_request"] in rows
    opened = str(report["open_by_tier_and_stage"][tier]["review"]["open"])
    assert ["Open claims by tier and stage", f"{tier} / review", "open", opened] in rows
    terminal = Console(record=True, width=200)
    terminal.print(render.as_table("sla", report))
    shown = terminal.export_text()
    assert "SLA report as of" in shown and "Breaches" in shown and late["claim_number"] in shown


def test_reports_need_a_manager_role_and_a_sane_period(client):
    assert client.get("/v1/reports/sla", headers=headers("claims_system")).status_code == 403
    bad = client.get("/v1/reports/kpis?from=2026-05-01&to=2026-04-01", headers=headers("analyst"))
    assert bad.status_code == 422 and bad.json()["field"] == "to"


def test_report_command_formats(tmp_path, monkeypatch):
    from service.database import make_engine
    from service.db import upgrade

    url = f"sqlite:///{tmp_path / 'claims.db'}"
    upgrade(make_engine(url))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        as_json = runner.invoke(
            cli, ["report", "kpis", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "json"]
        )
        assert as_json.exit_code == 0, as_json.output
        assert json.loads(as_json.output)["claims"] == 0
        page = tmp_path / "sla.html"
        as_html = runner.invoke(cli, ["report", "sla", "--format", "html", "--out", str(page)])
        assert as_html.exit_code == 0 and page.read_text().startswith("<!doctype html>")
        wrong = runner.invoke(cli, ["report", "weekly"])
        assert wrong.exit_code == 2
    finally:
        get_settings.cache_clear()
