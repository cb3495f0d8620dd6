"""The whole claim lifecycle over HTTP, from first notice of loss to payment or denial."""

import itertools
from decimal import Decimal

from tests.service.conftest import headers


def test_simple_claim_from_fnol_to_payment_and_close(flow):
    claim = flow.report()
    assert claim["status"] == "documents_pending"
    assert claim["claim_number"].startswith("CLM-")
    assert claim["adjudication"]["coverage"] == "pending_documents"
    assert claim["adjudication"]["payable_amount"] == "3700.00"
    assert [d["code"] for d in claim["documents"]["missing"]] == [
        "claim_form",
        "driving_licence",
        "vehicle_licence",
        "repair_estimate",
    ]
    assert claim["documents"]["missing"][0]["label"] == {"zh-CN": "索赔申请书", "en": "claim form"}
    assert claim["risk"]["band"] == "low" and claim["risk"]["factors"]
    codes = [r["code"] for r in claim["adjudication"]["reasons"]]
    assert codes[0] == "PERIL_COVERED" and codes.count("DOCUMENT_MISSING") == 4
    assert all(r["customer"]["zh-CN"] and r["customer"]["en"] for r in claim["adjudication"]["reasons"])

    claim = flow.send_documents(claim)
    assert claim["status"] == "under_review"
    assert claim["route"] == "simple" and claim["coverage"] == "covered"  # re-adjudicated

    claim = flow.review(claim, "specialist", "preliminary")
    assert claim["status"] == "under_review"  # simple and within authority: no senior review
    claim = flow.approve(claim, "specialist")
    assert claim["status"] == "approved" and claim["approved_amount"] == "3700.00"

    payment = flow.pay(claim, "pay-simple-0001")
    assert payment["amount"] == "3700.00" and payment["method"] == "bank_transfer"
    claim = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert claim["status"] == "paid" and claim["paid_amount"] == "3700.00"
    claim = flow.call("claims_system", "POST", f"/v1/claims/{claim['claim_number']}/close")
    assert claim["status"] == "closed"

    records = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
    kinds = [r["kind"] for r in records]
    assert kinds[:2] == ["reported", "adjudication"]
    assert kinds.count("adjudication") == 2 and "decision" in kinds and "payment" in kinds
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert all(b["previous_hash"] == a["record_hash"] for a, b in itertools.pairwise(records))
    first = records[1]
    assert first["rulebook_name"] == "motor" and len(first["rulebook_sha256"]) == 64
    assert first["model_name"] == "fraud-risk" and first["model_version"] == "test"
    assert len(first["facts_hash"]) == 64


def test_complex_claim_needs_a_senior_review_by_another_person(flow):
    claim = flow.send_documents(flow.report(claimed_amount="80000.00"))
    assert claim["route"] == "complex"
    claim = flow.review(claim, "specialist", "preliminary")
    assert claim["status"] == "senior_review"
    refused = flow.approve(claim, "senior_reviewer", expect=409)
    assert refused["missing"] == "senior_review"
    # li.wei holds a senior reviewer key too, but made the preliminary review: four eyes
    four_eyes = flow.review(claim, "senior_reviewer3", "senior", expect=409)
    assert four_eyes["rule"] == "four_eyes" and "li.wei" in four_eyes["detail"]
    flow.review(claim, "senior_reviewer", "senior")
    assert flow.approve(claim, "specialist", expect=403)["code"] == "forbidden"
    claim = flow.approve(claim, "senior_reviewer")
    assert claim["status"] == "approved"
    assert [r["reviewer"] for r in claim["reviews"]] == ["li.wei", "wang.fang"]


def test_amount_over_the_specialists_authority_needs_a_senior(flow, client):
    limit = client.app.state.runtime.settings.specialist_authority_limit
    assert limit == Decimal("50000.00")
    claim = flow.send_documents(flow.report(claimed_amount="9000.00"))
    assert claim["route"] == "simple"
    body = {"stage": "preliminary", "recommendation": "approve", "amount": "60000.00"}
    claim = flow.call("specialist", "POST", f"/v1/claims/{claim['claim_number']}/reviews", body, expect=201)
    assert claim["status"] == "senior_review"


def test_approval_above_the_payable_amount_needs_an_override_reason(flow):
    claim = flow.send_documents(flow.report())
    flow.review(claim, "specialist", "preliminary")
    problem = flow.approve(claim, "specialist", expect=422, amount="3800.00")
    assert problem["field"] == "amount"
    body = {"outcome": "approve", "amount": "3800.00", "override_reason_code": "EX_GRATIA"}
    claim = flow.call("senior_reviewer", "POST", f"/v1/claims/{claim['claim_number']}/decision", body)
    assert claim["approved_amount"] == "3800.00"


def test_denial_carries_reasons_in_both_languages(flow):
    claim = flow.report(facts={"driver_intoxicated": True})
    assert claim["coverage"] == "not_covered" and claim["payable_amount"] == "0.00"
    body = {
        "outcome": "deny",
        "reason_codes": ["DRUNK_DRIVING"],
        "explanation": {"zh-CN": "驾驶人醉酒驾驶，不予赔付。", "en": "Drunk driving is excluded."},
    }
    claim = flow.call("specialist", "POST", f"/v1/claims/{claim['claim_number']}/decision", body)
    assert claim["status"] == "denied"
    decision = [
        r
        for r in flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
        if r["kind"] != "message"
    ][-1]
    assert decision["kind"] == "decision" and decision["actor"] == "li.wei"
    assert decision["reasons"] == [
        {
            "code": "DRUNK_DRIVING",
            "category": "decision",
            "customer": {"zh-CN": "驾驶人醉酒驾驶，不予赔付。", "en": "Drunk driving is excluded."},
        }
    ]


def test_a_rejected_document_sends_the_claim_back_to_waiting(flow):
    claim = flow.send_documents(flow.report())
    assert claim["status"] == "under_review"
    doc_id = claim["documents"]["received"][0]["id"]
    path = f"/v1/claims/{claim['claim_number']}/documents/{doc_id}"
    problem = flow.call("specialist", "PATCH", path, {"status": "rejected"}, expect=422)
    assert problem["errors"] == [{"field": "reason", "message": "a rejected document needs one"}]
    claim = flow.call("specialist", "PATCH", path, {"status": "rejected", "reason": "illegible scan"})
    assert claim["status"] == "documents_pending"
    assert [d["code"] for d in claim["documents"]["missing"]] == ["claim_form"]


def test_document_content_is_stored_when_its_hash_matches(flow, client):
    import base64
    import hashlib

    claim = flow.report()
    content = b"%PDF-1.4 claim form"
    body = {
        "doc_type": "claim_form",
        "file_name": "form.pdf",
        "sha256": hashlib.sha256(content).hexdigest(),
        "content_base64": base64.b64encode(content).decode(),
    }
    path = f"/v1/claims/{claim['claim_number']}/documents"
    stored = flow.call("claims_system", "POST", path, body, expect=201)["claim"]["documents"]["received"][0]
    assert stored["stored"] is True
    bad = {**body, "sha256": "0" * 64}
    assert flow.call("claims_system", "POST", path, bad, expect=422)["field"] == "sha256"


def test_withdrawal_and_listing_filters(flow):
    claim = flow.report()
    claim = flow.call("claims_system", "POST", f"/v1/claims/{claim['claim_number']}/withdraw")
    assert claim["status"] == "withdrawn" and claim["allowed_actions"] == []
    listed = flow.call("analyst", "GET", "/v1/claims?status=withdrawn&limit=5")
    assert claim["claim_number"] in [c["claim_number"] for c in listed["items"]]
    assert all(c["status"] == "withdrawn" for c in listed["items"])
    routes = flow.call("analyst", "GET", "/v1/claims?route=major")
    assert all(c["route"] == "major" for c in routes["items"])


def test_readjudication_is_recorded_every_time(flow):
    claim = flow.report()
    path = f"/v1/claims/{claim['claim_number']}"
    flow.call("specialist", "POST", f"{path}/adjudicate")
    flow.call("senior_reviewer", "POST", f"{path}/adjudicate")
    kinds = [r["kind"] for r in flow.call("analyst", "GET", f"{path}/decisions")]
    assert kinds.count("adjudication") == 3


def test_every_product_line_is_adjudicated_by_its_rulebook(flow):
    for product, rulebook in (("health", "health"), ("property", "property")):
        claim = flow.report(product)
        assert claim["rulebook"].startswith(f"{rulebook}@")
        assert claim["status"] == "documents_pending"


def test_unknown_claim_is_404_problem(client):
    response = client.get("/v1/claims/CLM-2026-9999999", headers=headers("analyst"))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "claim_number"


def test_sla_clocks_are_shown_and_filterable(flow):
    import datetime as dt

    fresh = flow.report()
    sla = fresh["sla"]
    assert sla["tier"] == "complex" and sla["calendar"] == "CN"
    stages = {s["stage"]: s for s in sla["stages"]}
    assert stages["document_request"]["state"] == "done" and not stages["document_request"]["breached"]
    assert stages["review"]["state"] == "not_started"

    old = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    incident = (dt.datetime.now() - dt.timedelta(days=31)).replace(microsecond=0).isoformat()
    late = flow.report(report_date=old, incident_at=incident)
    stages = {s["stage"]: s for s in late["sla"]["stages"]}
    assert stages["document_request"]["breached"] and stages["document_request"]["working_days_used"] > 10
    breached = flow.call("analyst", "GET", "/v1/claims?sla=breached&limit=200")["items"]
    numbers = {c["claim_number"] for c in breached}
    assert late["claim_number"] in numbers and fresh["claim_number"] not in numbers
    assert all(c["sla_breached"] for c in breached)
    listed = next(c for c in breached if c["claim_number"] == late["claim_number"])
    assert listed["sla_stages"] == late["sla"]["stages"]  # the list shows every stage, as the claim does


def test_a_reroute_is_recorded_with_its_reason(flow):
    claim = flow.send_documents(flow.report())
    assert claim["route"] == "simple"  # documents complete, small, low risk
    doc_id = claim["documents"]["received"][0]["id"]
    claim = flow.call(
        "specialist",
        "PATCH",
        f"/v1/claims/{claim['claim_number']}/documents/{doc_id}",
        {"status": "rejected", "reason": "wrong vehicle"},
    )
    assert claim["route"] == "complex" and claim["sla"]["tier"] == "complex"
    assert claim["sla"]["reroutes"][-1]["from"] == "simple"
    assert claim["sla"]["reroutes"][-1]["why"] == "DEFAULT_ROUTE"


def test_why_not_lists_the_rules_that_did_not_fire(flow):
    claim = flow.report(claimed_amount="12000.00")
    explained = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/explain")
    assert explained["rulebook"].startswith("motor@")
    fired = {r["rule_id"] for r in explained["fired"]}
    assert fired == {"MOT-COV-001", "MOT-RTE-002"}
    simple = next(r for r in explained["not_fired"] if r["rule_id"] == "MOT-RTE-001")
    assert simple["failed"] == "claimed_amount <= params.simple_max_amount"
    assert simple["facts"] == {"claimed_amount": 12000.0}
