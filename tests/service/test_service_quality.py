"""The service-quality report against figures counted by hand: satisfaction, complaints, claim
timeliness, document lapses and rectification, by month, quarter and group; and its CLI."""

from __future__ import annotations

import datetime as dt
import json

from typer.testing import CliRunner

from service.cli import app
from service.outbox import worker
from tests.service.conftest import Flow
from tests.service.test_outbox import _survey_link

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=40)


def _paid(flow: Flow) -> dict:
    claim = flow.send_documents(flow.report(contact_email="q@example.com"))
    flow.review(claim, "specialist", "preliminary")
    flow.pay(flow.approve(claim, "specialist"), f"pay-{claim['claim_number']}")
    return claim


def _survey_path(flow: Flow, number: str) -> str:
    return _survey_link(flow, number).split("8000", 1)[1]


def test_the_service_quality_figures_match_a_hand_count(client, flow):
    runtime = client.app.state.runtime
    paid = [_paid(flow) for _ in range(3)]
    worker.run_jobs(runtime)  # the three survey invitations
    client.post(_survey_path(flow, paid[0]["claim_number"]), data={"rating": "5"})
    client.post(_survey_path(flow, paid[1]["claim_number"]), data={"rating": "2"})  # opens an item
    complaint = {
        "channel": "hotline",
        "customer": "A",
        "category": "payment",
        "severity": "high",
        "text": "late",
    }
    first = flow.call(
        "claims_system",
        "POST",
        "/v1/complaints",
        {**complaint, "claim_number": paid[2]["claim_number"]},
        expect=201,
    )
    flow.call("claims_system", "POST", "/v1/complaints", complaint, expect=201)
    resolution = {"resolution": "paid now", "cause": "process", "upheld": True}
    # Resolved as upheld: it opens a rectification item.
    flow.call("senior_reviewer", "POST", f"/v1/complaints/{first['id']}/resolution", resolution)
    flow.report(contact_email="late@example.com")  # its documents never come
    worker.run_jobs(runtime, now=LATER)
    items = flow.call("analyst", "GET", "/v1/rectifications")
    flow.call("specialist", "POST", f"/v1/rectifications/{items[0]['id']}/closure", {"evidence": "done"})
    today = dt.datetime.now(runtime.settings.zone).date()
    report = flow.call("analyst", "GET", f"/v1/reports/service-quality?from={today}&to={today}&by=person")
    total = report["total"]
    assert total["satisfaction"] == {
        "invited": 3,
        "answered": 2,
        "response_rate": 0.6667,
        "average": 3.5,
        "distribution": {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1},
    }
    assert total["complaints"] == {
        "received": 2,
        "first_response_within_sla": 1.0,  # the resolved one was answered by its resolution, at once
        "resolved": 1,
        "resolved_within_sla": 1.0,
        "upheld_rate": 1.0,
    }
    assert total["claims"]["decided"] == 3 and total["claims"]["decided_within_sla"] == 1.0
    assert total["claims"]["by_tier"]["simple"]["decided"] == 3
    assert total["document_lapses"] == 1
    assert total["rectification"] == {"closed": 1, "closed_on_time": 1.0, "overdue_open": 0}
    month = today.strftime("%Y-%m")
    assert [m["period"] for m in report["monthly"]] == [month]
    assert report["monthly"][0]["satisfaction"] == total["satisfaction"]
    assert report["quarterly"][0]["period"] == f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    people = {g["person"]: g for g in report["groups"]}
    assert people["li.wei"]["claims"]["decided"] == 3
    assert report["targets"]["satisfaction"] == 4.2
    assert flow.call("analyst", "GET", f"/v1/reports/service-quality?from={today}&to=2000-01-01", expect=422)
    assert flow.call("specialist", "GET", f"/v1/reports/service-quality?from={today}&to={today}", expect=403)


def test_the_report_command_prints_service_quality_in_every_format(tmp_path, monkeypatch):
    from service.config import get_settings

    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
        shown = runner.invoke(app, ["report", "service-quality", "--format", "json", "--by", "line"])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.output)["by"] == "line"
        page = tmp_path / "quality.html"
        assert (
            runner.invoke(
                app, ["report", "service-quality", "--format", "html", "--out", str(page)]
            ).exit_code
            == 0
        )
        assert "Service quality" in page.read_text(encoding="utf-8")
        wrong = runner.invoke(app, ["report", "service-quality", "--by", "planet"])
        assert wrong.exit_code == 2 and "Traceback" not in wrong.output
        bad = runner.invoke(app, ["report", "service-quality", "--from", "soon"])
        assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    finally:
        get_settings.cache_clear()


def test_commands_on_a_data_folder_without_a_database_say_so_in_one_line(tmp_path, monkeypatch):
    from service.config import get_settings

    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path / "fresh"))
    get_settings.cache_clear()
    try:
        for args in (["worker", "--once"], ["report", "service-quality"], ["sla", "refresh"]):
            answer = CliRunner().invoke(app, args)
            assert answer.exit_code == 2 and "no database" in answer.output, (args, answer.output)
            assert len(answer.output.strip().splitlines()) == 1
        assert not (tmp_path / "fresh" / "claims.db").exists()  # nothing left behind
    finally:
        get_settings.cache_clear()
