"""Prometheus metrics, JSON logs and the request id carried into decision records."""

import datetime as dt
import json
import logging
import re

from prometheus_client.parser import text_string_to_metric_families

from tests.service.conftest import claim_body, headers


def test_metrics_count_requests_decisions_and_versions(flow, client):
    flow.report()
    text = client.get("/metrics", headers=headers("risk_team")).text
    assert (
        'claims_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/v1/claims",status="201"}'
        in text
    )
    assert "claims_adjudications_total{coverage=" in text
    assert 'claims_risk_bands_total{band="low"}' in text
    assert 'claims_component_info{component="model",name="fraud-risk",version="test"} 1.0' in text
    assert 'claims_component_info{component="rulebook",name="motor"' in text


def test_request_id_reaches_logs_and_decision_records(client, new_policy, caplog):
    number = new_policy()
    caplog.set_level(logging.INFO)
    response = client.post(
        "/v1/claims",
        json=claim_body(number),
        headers=headers("claims_system", **{"X-Request-ID": "req-trace-0001"}),
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "req-trace-0001"
    claim = response.json()["claim_number"]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]
    line = next(
        x for x in lines if x.get("route") == "/v1/claims" and x.get("request_id") == "req-trace-0001"
    )
    assert line["claim_number"] == claim and line["status"] == 201 and line["level"] == "info"
    records = client.get(f"/v1/claims/{claim}/decisions", headers=headers("analyst")).json()
    assert {r["request_id"] for r in records} == {"req-trace-0001"}


def _gauges(client, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    families = text_string_to_metric_families(client.get("/metrics", headers=headers("risk_team")).text)
    family = next((f for f in families if f.name == name), None)
    samples = family.samples if family else []
    return {tuple(s.labels[label] for label in labels): s.value for s in samples}


def test_sla_gauges_show_the_open_claims_stage_clocks_and_breaches(flow, client):
    collector = client.app.state.metric_collectors[0]
    saved = collector.max_age, collector.now
    collector.max_age = 0  # read afresh at every scrape
    try:
        claim = flow.send_documents(flow.report())  # documents in: its review clock runs
        tier = claim["sla"]["tier"]
        assert (
            _gauges(client, "claims_sla_open_stages", "tier", "stage", "state")[(tier, "review", "running")]
            == 1
        )
        assert _gauges(client, "claims_sla_breached_stages", "tier", "stage")[(tier, "review")] == 0
        flow.report()  # waiting for documents: no stage clock runs yet

        collector.now = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=40)
        assert _gauges(client, "claims_sla_breached_stages", "tier", "stage")[(tier, "review")] == 1
        assert (
            _gauges(client, "claims_sla_open_stages", "tier", "stage", "state")[(tier, "review", "running")]
            == 1
        )
    finally:
        collector.max_age, collector.now = saved


def test_metrics_answer_only_a_known_scraper(client, monkeypatch):
    anonymous = client.get("/metrics")
    assert anonymous.status_code == 401 and anonymous.headers["content-type"].startswith(
        "application/problem+json"
    )
    settings = client.app.state.runtime.settings
    monkeypatch.setattr(settings, "metrics_token", "scrape-token-0123456789")
    assert (
        client.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"}).status_code == 200
    )
    assert (
        client.get("/metrics", headers={"Authorization": "Bearer wrong-token-0123456789"}).status_code == 401
    )
    monkeypatch.setattr(settings, "metrics_public", True)
    assert client.get("/metrics").status_code == 200


def test_metrics_show_the_drift_of_the_claims_the_model_scored(flow, client):
    from risk_models.stability import MIN_WINDOW

    window = client.app.state.runtime.scorer.model.window
    window.rows.clear()
    for _ in range(3):
        flow.report()
    text = client.get("/metrics", headers=headers("analyst")).text
    assert re.search(r"claims_model_drift_window 3\.0", text)
    assert "claims_model_psi{" not in text  # three claims say nothing about a population yet
    features, score = window.rows[-1]
    for _ in range(MIN_WINDOW):
        window.add(features, score)
    text = client.get("/metrics", headers=headers("analyst")).text
    shown = dict(re.findall(r'claims_model_psi\{feature="(\w+)",version="test"\} ([0-9.e+-]+)', text))
    assert {"score", "log_claimed_amount", "product"} <= set(shown)
    assert re.search(r'claims_model_drifted_features\{version="test"\} \d', text)
