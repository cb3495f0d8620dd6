"""The deny path and duplicate suspects: what the rules already decide is acted on at once."""


def test_a_claim_the_rules_exclude_asks_for_no_documents_and_is_denied_at_once(flow):
    claim = flow.report(facts={"driver_intoxicated": True})
    assert claim["coverage"] == "not_covered" and claim["documents"]["missing"] == []
    assert claim["status"] == "under_review"
    assert "deny" in claim["allowed_actions"] and "approve" not in claim["allowed_actions"]
    path = f"/v1/claims/{claim['claim_number']}/decision"
    made_up = flow.call(
        "specialist", "POST", path, {"outcome": "deny", "reason_codes": ["MADE_UP_CODE"]}, expect=422
    )
    assert made_up["field"] == "reason_codes" and "FRAUD_CONFIRMED" in made_up["allowed_manual"]
    denied = flow.call("specialist", "POST", path, {"outcome": "deny"})
    assert denied["status"] == "denied"
    record = [
        r
        for r in flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
        if r["kind"] != "message"
    ][-1]
    assert record["outcome"]["reason_codes"] == ["DRUNK_DRIVING"]
    drunk = next(r for r in claim["adjudication"]["reasons"] if r["code"] == "DRUNK_DRIVING")
    assert record["reasons"][0]["customer"] == drunk["customer"]  # the rule's own texts, both languages


def test_a_claim_below_the_deductible_is_denied_with_the_rules_reason(flow):
    claim = flow.report(claimed_amount="300.00")
    assert claim["payable_amount"] == "0.00" and claim["documents"]["missing"] == []
    denied = flow.call(
        "specialist", "POST", f"/v1/claims/{claim['claim_number']}/decision", {"outcome": "deny"}
    )
    assert denied["status"] == "denied"
    record = [
        r
        for r in flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
        if r["kind"] != "message"
    ][-1]
    assert record["outcome"]["reason_codes"] == ["BELOW_DEDUCTIBLE"]


def test_a_manual_denial_code_needs_its_explanation(flow):
    claim = flow.send_documents(flow.report())
    flow.review(claim, "specialist", "preliminary", "deny")
    path = f"/v1/claims/{claim['claim_number']}/decision"
    body = {"outcome": "deny", "reason_codes": ["MISREPRESENTATION"]}
    assert flow.call("specialist", "POST", path, body, expect=422)["field"] == "explanation"
    body["explanation"] = {"zh-CN": "投保时未如实告知。", "en": "Material facts were not disclosed."}
    assert flow.call("specialist", "POST", path, body)["status"] == "denied"


def test_a_covered_claim_still_needs_its_preliminary_review_before_a_denial(flow):
    claim = flow.send_documents(flow.report())
    assert not {"approve", "deny"} & set(claim["allowed_actions"])  # a preliminary review first
    body = {
        "outcome": "deny",
        "reason_codes": ["FRAUD_CONFIRMED"],
        "explanation": {"zh-CN": "欺诈。", "en": "Fraud."},
    }
    problem = flow.call(
        "specialist", "POST", f"/v1/claims/{claim['claim_number']}/decision", body, expect=409
    )
    assert problem["missing"] == "preliminary_review"


def test_the_same_loss_reported_twice_is_a_duplicate_suspect(flow):
    policy = flow.policy()
    first = flow.report(policy=policy)
    again = flow.report(policy=policy, payee_account="6222 0000 3333 4444")
    reasons = {r["code"]: r for r in again["adjudication"]["reasons"]}
    assert "DUPLICATE_SUSPECT" in reasons and again["route"] == "complex"
    assert first["claim_number"] in reasons["DUPLICATE_SUSPECT"]["internal"]
    assert "DUPLICATE_SUSPECT" not in [r["code"] for r in first["adjudication"]["reasons"]]
    # Withdrawn, the first no longer makes a third report a duplicate of it.
    flow.call("claims_system", "POST", f"/v1/claims/{first['claim_number']}/withdraw")
    flow.call("claims_system", "POST", f"/v1/claims/{again['claim_number']}/withdraw")
    third = flow.report(policy=policy)
    assert "DUPLICATE_SUSPECT" not in [r["code"] for r in third["adjudication"]["reasons"]]
