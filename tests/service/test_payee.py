"""The payee: money goes to the registered account; a change is its own step, verified first."""


def test_a_payment_to_another_payee_is_refused(flow):
    claim = flow.approved_claim()
    problem = flow.pay(claim, "payee-key-0001", expect=422, payee="SOMEONE ELSE 9999")
    assert problem["field"] == "payee" and "ending 2222" in problem["detail"]
    assert "6222 0000 1111 2222" not in problem["detail"]  # the account is not spelled out in an error
    detail = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}")
    assert detail["payments"] == [] and detail["paid_amount"] == "0.00"
    # Naming the registered account is fine; a cheque goes to the policyholder.
    paid = flow.pay(claim, "payee-key-0002", payee="6222 0000 1111 2222", amount="100.00")
    assert paid["payee"] == "6222 0000 1111 2222"
    cheque = flow.pay(claim, "payee-key-0003", method="cheque", amount="100.00")
    assert cheque["payee"] == "Wang Xiaoming"


def test_a_changed_payee_is_re_scored_and_holds_payment_until_verified(flow):
    claim = flow.approved_claim()
    path = f"/v1/claims/{claim['claim_number']}"
    body = {"payee_account": "6217 9999 8888 7777", "reason": "customer changed banks"}
    assert flow.call("specialist", "PATCH", f"{path}/payee", body, expect=403)["role"] == "specialist"
    changed = flow.call("claims_system", "PATCH", f"{path}/payee", body)
    assert changed["payee_account"] == "6217 9999 8888 7777" and changed["payee_verified"] is False
    record = flow.call("analyst", "GET", f"{path}/decisions")[-1]
    assert record["kind"] == "payee_changed" and record["outcome"]["from"] == "6222 0000 1111 2222"
    assert record["outcome"]["risk"]["score"] is not None and record["model_name"]
    assert "pay" not in changed["allowed_actions"] and "verify_payee" in changed["allowed_actions"]
    held = flow.pay(claim, "payee-key-0101", expect=409)
    assert held["state"] == "payee_unverified" and held["field"] == "payee"
    assert flow.call("claims_system", "POST", f"{path}/payee/verify", expect=403)
    verified = flow.call("specialist", "POST", f"{path}/payee/verify")
    assert verified["payee_verified"] is True
    assert "pay" in verified["allowed_actions"] and "verify_payee" not in verified["allowed_actions"]
    paid = flow.pay(claim, "payee-key-0102")
    assert paid["payee"] == "6217 9999 8888 7777"
    assert flow.call("specialist", "POST", f"{path}/payee/verify", expect=409)["state"] == "paid"


def test_the_same_payee_again_is_no_change(flow):
    claim = flow.report()
    body = {"payee_account": "6222 0000 1111 2222", "reason": "no change"}
    problem = flow.call(
        "claims_system", "PATCH", f"/v1/claims/{claim['claim_number']}/payee", body, expect=422
    )
    assert problem["field"] == "payee_account"
