"""A rulebook change over HTTP: upload, backtest, second-analyst approval, activation, rollback."""

from rules.rulebook import RULEBOOK_DIR

TEXT = (RULEBOOK_DIR / "motor.yaml").read_text(encoding="utf-8")
TESTS = (RULEBOOK_DIR / "motor.tests.yaml").read_text(encoding="utf-8")
CANDIDATE = TEXT.replace('version: "2026.12.9"', 'version: "2026.12.1"').replace(
    "  late_report_days: 3 ", "  late_report_days: 5 "
)


def test_upload_backtest_approve_activate_and_roll_back(flow):
    flow.report()  # history for the backtest
    uploaded = flow.call("analyst", "POST", "/v1/rulebooks", {"text": CANDIDATE, "tests": TESTS}, expect=201)
    assert uploaded["status"] == "draft" and uploaded["tests"]["cases"] == 34
    assert "-  late_report_days: 3" in uploaded["diff_against_active"]
    assert "+  late_report_days: 5" in uploaded["diff_against_active"]
    path = "/v1/rulebooks/motor/versions/2026.12.1"

    report = flow.call("analyst", "POST", f"{path}/backtest")
    assert report["claims"] >= 1 and report["candidate"]["version"] == "2026.12.1"
    assert flow.call("analyst", "POST", f"{path}/activate", expect=409)["state"] == "draft"
    assert flow.call("analyst", "POST", f"{path}/approve", expect=409)["rule"] == "four_eyes"
    approved = flow.call("analyst2", "POST", f"{path}/approve")
    assert approved["status"] == "approved" and approved["approved_by"] == "sun.li"

    activated = flow.call("analyst2", "POST", f"{path}/activate")
    assert activated["status"] == "active" and activated["replaced"] == "2026.12.9"
    claim = flow.report()
    assert claim["rulebook"] == "motor@2026.12.1"  # in force without a restart
    records = flow.call("analyst", "GET", f"/v1/claims/{claim['claim_number']}/decisions")
    assert records[1]["rulebook_version"] == "2026.12.1"

    back = flow.call("analyst", "POST", "/v1/rulebooks/motor/rollback")
    assert back["version"] == "2026.12.9" and back["status"] == "active"
    assert flow.report()["rulebook"] == "motor@2026.12.9"
    listed = {(v["name"], v["version"]): v["status"] for v in flow.call("risk_team", "GET", "/v1/rulebooks")}
    assert listed[("motor", "2026.12.1")] == "retired" and listed[("motor", "2026.12.9")] == "active"
    history = flow.call("analyst", "GET", path)["history"]
    steps = ["uploaded", "backtested", "approved", "activated", "rolled_back"]
    assert [h["action"] for h in history] == steps
    assert history[-1]["in_force_now"] == "2026.12.9"


def test_a_broken_rulebook_or_failing_tests_are_refused(flow):
    broken = CANDIDATE.replace("when: driver_intoxicated\n", "when: driver_drunk\n")
    problem = flow.call("analyst", "POST", "/v1/rulebooks", {"text": broken, "tests": TESTS}, expect=422)
    assert problem["field"] == "text"
    assert "unknown fact 'driver_drunk'" in problem["errors"][0]["message"]
    lower = CANDIDATE.replace("  simple_max_amount: 10000 ", "  simple_max_amount: 5000 ")
    failing = flow.call("analyst", "POST", "/v1/rulebooks", {"text": lower, "tests": TESTS}, expect=422)
    assert failing["field"] == "tests" and failing["errors"]
    assert (
        flow.call("analyst", "POST", "/v1/rulebooks", {"text": TEXT, "tests": TESTS}, expect=409)["field"]
        == "version"
    )
    assert flow.call("claims_system", "POST", "/v1/rulebooks", {"text": TEXT, "tests": TESTS}, expect=403)


def test_shadow_mode_reports_differences_without_changing_decisions(flow):
    import datetime as dt

    flow.call("analyst", "POST", "/v1/rulebooks", {"text": CANDIDATE, "tests": TESTS}, expect=201)
    path = "/v1/rulebooks/motor/versions/2026.12.1"
    started = flow.call("analyst", "POST", f"{path}/shadow")
    assert started["history"][-1]["action"] == "shadow_started"
    # reported four days after the incident: late for the active version (3 days), not for the shadow (5)
    incident = (dt.datetime.now() - dt.timedelta(days=4)).replace(microsecond=0, hour=10)
    late = flow.report(incident_at=incident.isoformat())
    assert late["rulebook"] == "motor@2026.12.9"  # decisions still come from the active version
    assert "LATE_REPORT" in [r["code"] for r in late["adjudication"]["reasons"]]
    flow.report()
    report = flow.call("risk_team", "GET", f"{path}/shadow-report")
    assert report["evaluated"] == 2 and report["differing"] == 1
    example = report["examples"][0]
    assert example["claim"] == late["claim_number"]
    assert "LATE_REPORT" in example["active"]["reason_codes"]
    assert "LATE_REPORT" not in example["shadow"]["reason_codes"]
    assert (
        flow.call("analyst", "POST", "/v1/rulebooks/motor/versions/2026.12.9/shadow", expect=409)["state"]
        == "active"
    )


def test_intake_documents_and_decisions_go_on_with_a_shadow_on_and_a_shadow_can_be_stopped(flow, client):
    flow.call("analyst", "POST", "/v1/rulebooks", {"text": CANDIDATE, "tests": TESTS}, expect=201)
    path = "/v1/rulebooks/motor/versions/2026.12.1"
    flow.call("analyst", "POST", f"{path}/shadow")
    # Another worker has not compiled the shadowed version yet: its first claim compiles it.
    runtime = client.app.state.runtime

    def compiled() -> list[str]:
        return [sha for sha, e in runtime.store._by_sha.items() if e.rulebook.version == "2026.12.1"]

    for sha in compiled():  # whatever an earlier request of this process compiled
        runtime.store._by_sha.pop(sha).close()
    claim = flow.report()  # was 409 "retry": the lookup flushed the new claim's records first
    assert len(compiled()) == 1  # compiled by the claim that needed it
    claim = flow.send_documents(claim)  # re-adjudicated: evaluated on the shadow again
    flow.review(claim, "specialist", "preliminary")
    assert flow.approve(claim, "specialist")["status"] == "approved"
    report = flow.call("risk_team", "GET", f"{path}/shadow-report")
    assert report["evaluated"] == 2 and report["shadow"] is True
    assert flow.call("risk_team", "DELETE", "/v1/rulebooks/motor/shadow", expect=403)
    stopped = flow.call("analyst", "DELETE", "/v1/rulebooks/motor/shadow")
    assert stopped["shadow"] is False and stopped["history"][-1]["action"] == "shadow_stopped"
    flow.report()
    after = flow.call("risk_team", "GET", f"{path}/shadow-report")
    assert after["evaluated"] == 2 and after["shadow"] is False  # kept, and no longer fed
    assert flow.call("analyst", "DELETE", "/v1/rulebooks/motor/shadow", expect=404)["field"] == "name"
