"""The published contract: security schemes, problem+json on every error, plain ids and summaries,
a page per problem type, and documentation served by the service itself."""

from service.openapi import PROBLEMS


def test_every_operation_is_named_secured_and_documents_its_problems(client):
    schema = client.get("/openapi.json").json()
    assert set(schema["components"]["securitySchemes"]) == {"ApiKey", "Bearer"}
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    operations = [(path, op) for path, ops in schema["paths"].items() for op in ops.values()]
    ids = [op["operationId"] for _, op in operations]
    assert len(ids) == len(set(ids)) and "report_claim" in ids and "pay" in ids
    for path, op in operations:
        assert op["summary"] and not op["summary"].endswith(".")
        if path.startswith("/v1/"):
            for status in ("401", "403", "404", "409", "422", "500"):
                content = op["responses"][status]["content"]
                assert content["application/problem+json"]["schema"]["$ref"] == "#/components/schemas/Problem"
        else:
            assert op["security"] == []


def test_every_problem_type_has_a_page(client, flow):
    for code in PROBLEMS:
        page = client.get(f"/problems/{code}")
        assert page.status_code == 200 and PROBLEMS[code][1] in page.text
    problem = flow.call("analyst", "GET", "/v1/claims/CLM-0000-0000000", expect=404)
    assert client.get(problem["type"]).status_code == 200
    assert client.get("/problems/no_such_thing").status_code == 404


def test_the_docs_load_their_assets_from_the_service(client):
    for page in ("/docs", "/redoc"):
        text = client.get(page).text
        assert "cdn" not in text.lower() and "/docs-assets/" in text
    assert client.get("/docs-assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs-assets/redoc.standalone.js").status_code == 200


def test_real_answers_fit_the_published_claim_models(flow):
    from service.claims.responses import ClaimDetail, ClaimPage, DocumentAdded, Explanation

    reported = flow.report(third_party=True, peril="collision", facts={"fault_share": "equal"})
    ClaimDetail.model_validate(reported)
    doc = reported["documents"]["missing"][0]["code"]
    body = {"doc_type": doc, "file_name": "a.pdf", "sha256": "ab" * 32}
    DocumentAdded.model_validate(
        flow.call(
            "claims_system", "POST", f"/v1/claims/{reported['claim_number']}/documents", body, expect=201
        )
    )
    claim = flow.approved_claim()
    flow.pay(claim, "contract-key-01", amount="100.00")
    paid = ClaimDetail.model_validate(flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}"))
    assert paid.payments[0].amount == "100.00" and paid.reserve_history[-1].to == "3600.00"
    page = ClaimPage.model_validate(flow.call("analyst", "GET", "/v1/claims?limit=5"))
    assert page.total >= 2 and page.items
    Explanation.model_validate(flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/explain"))


def test_real_rulebook_answers_fit_the_published_models(flow):
    from service.rulebooks.responses import ShadowReport, VersionView
    from tests.service.test_rulebooks import CANDIDATE, TESTS

    uploaded = VersionView.model_validate(
        flow.call("analyst", "POST", "/v1/rulebooks", {"text": CANDIDATE, "tests": TESTS}, expect=201)
    )
    assert uploaded.status == "draft" and uploaded.diff_against_active
    path = "/v1/rulebooks/motor/versions/2026.12.1"
    VersionView.model_validate(flow.call("analyst", "POST", f"{path}/shadow"))
    flow.report()
    assert ShadowReport.model_validate(flow.call("analyst", "GET", f"{path}/shadow-report")).evaluated == 1
    listed = flow.call("analyst", "GET", "/v1/rulebooks")
    active = next(v for v in listed if v["name"] == "motor" and v["status"] == "active")
    assert active["in_force"] == [{"from": None, "to": None}]  # the alias, not "from_"


def test_payment_timestamps_carry_their_zone(flow):
    import datetime as dt

    paid = flow.pay(flow.approved_claim(), "contract-key-02")
    assert dt.datetime.fromisoformat(paid["created_at"].replace("Z", "+00:00")).utcoffset() == dt.timedelta(0)


def _timestamps(value, key=""):
    """Every (field, text) in an answer that reads as a date and time."""
    import re

    if isinstance(value, dict):
        for k, v in value.items():
            yield from _timestamps(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _timestamps(v, key)
    elif isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", value):
        yield key, value


def test_every_timestamp_answered_is_utc_except_the_customers_local_incident_time(flow):
    import datetime as dt

    claim = flow.approved_claim()
    flow.pay(claim, "contract-key-03")
    number = claim["claim_number"]
    answers = [
        flow.call("analyst", "GET", f"/v1/claims/{number}"),
        flow.call("analyst", "GET", f"/v1/claims/{number}/decisions"),
        flow.call("analyst", "GET", f"/v1/claims/{number}/explain"),
        flow.call("analyst", "GET", "/v1/claims?limit=50"),
        flow.call("analyst", "GET", "/v1/rulebooks/motor/versions/" + claim["rulebook"].split("@")[1]),
        flow.call("investigator", "GET", "/v1/investigations"),
    ]
    seen = [pair for answer in answers for pair in _timestamps(answer)]
    assert len(seen) > 10
    for field, text in seen:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if field == "incident_at":
            assert moment.tzinfo is None, "the incident time is the customer's local time, as reported"
        else:
            assert moment.utcoffset() == dt.timedelta(0), (field, text)


def test_the_kpi_and_backtest_reports_fit_their_published_models(flow):
    import datetime as dt

    from service.reports.responses import KpiReport
    from service.rulebooks.responses import BacktestReport
    from tests.service.test_rulebooks import CANDIDATE, TESTS

    flow.pay(flow.approved_claim(), "contract-key-04")
    today = dt.date.today().isoformat()
    kpis = KpiReport.model_validate(flow.call("analyst", "GET", f"/v1/reports/kpis?from={today}&to={today}"))
    assert kpis.claims >= 1 and kpis.payments_by_method["bank_transfer"].count >= 1
    flow.call("analyst", "POST", "/v1/rulebooks", {"text": CANDIDATE, "tests": TESTS}, expect=201)
    report = flow.call("analyst", "POST", "/v1/rulebooks/motor/versions/2026.12.1/backtest")
    assert BacktestReport.model_validate(report).claims >= 1
