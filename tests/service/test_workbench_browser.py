"""The workbench in a real browser: Debian's Chromium, headless, driven by Selenium through
Debian's chromedriver (`.ci/run` installs both). The walks the claims people take every day.

Set SCREENSHOTS_DIR (e.g. docs/images) to keep a screenshot of each main page.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.main import create_app
from tests.service.conftest import KEYS, PEOPLE, Flow, live_server, make_settings, migrated_database
from tests.service.test_investigations import _high_risk
from tests.service.test_rulebooks import CANDIDATE, TESTS

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
MAJOR = {"claimed_amount": "800500.00"}

if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
    if os.environ.get("CI"):
        raise RuntimeError("CI needs Debian's chromium and chromium-driver (.ci/run installs them)")
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)

from selenium import webdriver  # noqa: E402 - only where the browser is there to drive
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def site(scorer, tmp_path_factory) -> Iterator[tuple[str, Flow]]:
    """The service on a real port and its own committed database; an API driver for the set-up."""
    url = migrated_database("sqlite", tmp_path_factory)
    app = create_app(make_settings(url, tmp_path_factory.mktemp("data")), scorer=scorer)
    with TestClient(app) as client, live_server(app) as base:
        yield base, Flow(client)


@pytest.fixture(scope="module")
def browser(tmp_path_factory) -> Iterator[webdriver.Chrome]:
    """One headless Chromium for the module, with its own empty profile."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tmp_path_factory.mktemp("chromium")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        # This machine has no network beyond loopback: no background calls to make and fail.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.implicitly_wait(5)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def sign_in(browser, base: str, who: str) -> None:
    browser.delete_all_cookies()
    browser.get(f"{base}/app/sign-in")
    browser.find_element(By.ID, "api-key").send_keys(KEYS[who])
    press(browser, browser.find_element(By.CSS_SELECTOR, "#sign-in button[type=submit]"))
    assert browser.find_element(By.ID, "person").text.startswith(PEOPLE[who])


def press(browser, element) -> None:
    """Click a link or a form's button and wait for the next page to replace this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_) -> bool:
        try:
            page.is_enabled()
        except WebDriverException:  # stale, or (newer Chromium) no longer in the document
            return True
        return False

    WebDriverWait(browser, 15).until(replaced)


def click(browser, element_id: str) -> None:
    press(browser, browser.find_element(By.ID, element_id))


def shot(browser, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(folder) / f"{name}.png"))


def status_of(flow: Flow, number: str) -> dict:
    return flow.call("analyst", "GET", f"/v1/claims/{number}")


def test_a_specialist_takes_verifies_and_reviews_then_a_senior_reviewer_approves(site, browser):
    base, flow = site
    claim = flow.send_documents(flow.report())
    n = claim["claim_number"]
    owner = next(k for k, v in PEOPLE.items() if v == claim["owner"] and k.startswith("specialist"))
    flow.call(owner, "POST", f"/v1/claims/{n}/assignment", {"action": "release"})  # back to the queue
    sign_in(browser, base, "specialist2")
    click(browser, "nav-team-motor-claims")
    click(browser, "only-waiting")
    shot(browser, "team-queue")
    press(browser, browser.find_element(By.LINK_TEXT, n))
    click(browser, "take")
    assert browser.find_element(By.ID, "claim-owner").text == PEOPLE["specialist2"]
    for _ in claim["documents"]["required"]:
        press(browser, browser.find_element(By.CSS_SELECTOR, "#documents button.verify"))
        assert browser.find_element(By.ID, "done")
    assert not browser.find_elements(By.CSS_SELECTOR, "#documents button.verify")
    assert {d["status"] for d in status_of(flow, n)["documents"]["received"]} == {"verified"}
    form = browser.find_element(By.ID, "preliminary_review-form")
    form.find_element(By.NAME, "notes").send_keys("documents verified; amount as the rules say")
    click(browser, "preliminary_review")
    assert [r["stage"] for r in status_of(flow, n)["reviews"]] == ["preliminary"]
    shot(browser, "claim")

    sign_in(browser, base, "senior_reviewer")
    browser.get(f"{base}/app/claims/{n}")
    amount = browser.find_element(By.CSS_SELECTOR, "#approve-form input[name=amount]")
    assert amount.get_attribute("value") == claim["payable_amount"]  # pre-filled from the rules
    click(browser, "approve")
    assert browser.find_element(By.ID, "done")
    shown = status_of(flow, n)
    assert shown["status"] == "approved" and shown["approved_amount"] == claim["payable_amount"]
    records = flow.call("analyst", "GET", f"/v1/claims/{n}/decisions")
    decision = next(r for r in records if r["kind"] == "decision")
    assert decision["actor"] == PEOPLE["senior_reviewer"]


def test_no_approve_button_for_a_specialist_in_a_senior_review_and_the_senior_reviewer_decides(site, browser):
    base, flow = site
    claim = flow.send_documents(flow.report(policy=flow.policy(sum_insured="2000000.00"), **MAJOR))
    flow.review(claim, "specialist", "preliminary")
    n = claim["claim_number"]
    assert status_of(flow, n)["status"] == "senior_review"
    sign_in(browser, base, "specialist")
    browser.get(f"{base}/app/claims/{n}")
    assert browser.find_element(By.ID, "claim-title").text.startswith(n)
    assert not browser.find_elements(By.ID, "approve") and not browser.find_elements(By.ID, "senior_review")
    sign_in(browser, base, "senior_reviewer")
    browser.get(f"{base}/app/claims/{n}")
    assert not browser.find_elements(By.ID, "approve")  # the senior review comes first
    click(browser, "senior_review")
    click(browser, "approve")  # above the dual-approval amount: not by the one who reviewed it
    assert "two different senior reviewers" in browser.find_element(By.ID, "problem").text
    assert status_of(flow, n)["status"] == "senior_review"
    sign_in(browser, base, "senior_reviewer2")
    browser.get(f"{base}/app/claims/{n}")
    click(browser, "approve")
    assert browser.find_element(By.ID, "done")
    assert status_of(flow, n)["status"] == "approved"


def test_an_investigator_clears_a_held_claim(site, browser):
    base, flow = site
    held = _high_risk(flow)
    assert held["on_hold"] is True
    sign_in(browser, base, "investigator")
    click(browser, "nav-investigations")
    card = browser.find_element(
        By.CSS_SELECTOR, f"section[data-investigation='{held['investigation']['id']}']"
    )
    assert held["claim_number"] in card.text
    shot(browser, "investigations")
    card.find_element(By.NAME, "notes").send_keys("spoke to the garage and the customer: genuine")
    Select(card.find_element(By.NAME, "outcome")).select_by_value("cleared")
    press(browser, card.find_element(By.CSS_SELECTOR, "button[type=submit]"))
    assert browser.find_element(By.ID, "done")
    after = status_of(flow, held["claim_number"])
    assert after["on_hold"] is False and after["investigation"]["status"] == "cleared"


def test_an_analyst_approves_another_analysts_rulebook_version(site, browser):
    base, flow = site
    version = CANDIDATE.split('version: "', 1)[1].split('"', 1)[0]
    flow.call("analyst", "POST", "/v1/rulebooks", {"text": CANDIDATE, "tests": TESTS}, expect=201)
    sign_in(browser, base, "analyst")  # the uploader: four eyes refuse her own approval
    browser.get(f"{base}/app/rulebooks/motor/{version}")
    click(browser, "approve")
    assert browser.find_element(By.ID, "problem").text
    sign_in(browser, base, "analyst2")
    click(browser, "nav-rulebooks")
    press(browser, browser.find_element(By.LINK_TEXT, version))
    assert "late_report_days: 5" in browser.find_element(By.ID, "diff").text
    shot(browser, "rulebook")
    click(browser, "approve")
    assert browser.find_element(By.ID, "done")
    listed = {(v["name"], v["version"]): v for v in flow.call("analyst", "GET", "/v1/rulebooks")}
    assert listed[("motor", version)]["status"] == "approved"
    assert listed[("motor", version)]["approved_by"] == PEOPLE["analyst2"]


def test_a_form_posted_without_its_csrf_token_is_refused(site, browser):
    base, flow = site
    n = flow.report(policy=flow.policy(sum_insured="2000000.00"), **MAJOR)["claim_number"]
    sign_in(browser, base, "senior_reviewer")
    browser.get(f"{base}/app/claims/{n}")
    browser.execute_script("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    click(browser, "take")
    assert browser.find_element(By.ID, "problem")
    assert status_of(flow, n)["owner"] is None  # nothing changed
    browser.get(f"{base}/app/claims/{n}")
    click(browser, "take")  # the same button with its token
    assert status_of(flow, n)["owner"] == PEOPLE["senior_reviewer"]


def test_the_pages_switch_language_and_fit_a_tablet(site, browser):
    base, flow = site
    flow.send_documents(flow.report())
    sign_in(browser, base, "specialist")
    assert "我的案件" in browser.find_element(By.ID, "queue-title").text
    shot(browser, "my-work")
    click(browser, "language")
    assert "My work" in browser.find_element(By.ID, "queue-title").text
    browser.set_window_size(820, 1100)  # a tablet held upright
    width = browser.execute_script("return document.documentElement.scrollWidth")
    assert width <= 820, f"the page is {width} px wide on an 820 px screen"
    browser.set_window_size(1280, 1000)
    click(browser, "language")
    assert dt.date.today()
