"""Shared fraud intelligence: a confirmed fraud's account and phone leave as keyed hashes only;
another insurer's file is imported; a claim matching it is referred, never denied; and the
regulator's summary counts referrals, confirmed frauds and the amounts saved."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service import intel
from service.cli import app as cli
from service.config import Settings, get_settings
from service.main import create_app
from tests.service.conftest import Flow, env_keys, migrated_database

KEY = "shared-by-the-insurers-0123456789"
runner = CliRunner()


@pytest.fixture(autouse=True)
def fresh_settings():
    """Each command reads the environment this test sets (the settings are cached per process)."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture(params=["sqlite", "postgres"])
def insurer(request, scorer, tmp_path_factory):
    """An insurer's service with the sharing key, on its own database."""
    url = migrated_database(request.param, tmp_path_factory)
    folder = tmp_path_factory.mktemp("insurer")
    settings = Settings(
        data_dir=folder,
        database_url=url,
        api_keys=env_keys(),
        load_model=False,
        intel_key=KEY,
        intel_issuer="Insurer A",
    )
    with TestClient(create_app(settings, scorer=scorer)) as client:
        yield client, url, folder


def _confirmed_ring(flow: Flow, account: str, phone: str) -> dict:
    """Four policies paid into one account: the fourth is referred; the investigator confirms it."""
    for _ in range(3):
        flow.report(policy=flow.policy(), payee_account=account)
    ring = flow.report(
        policy=flow.policy(), payee_account=account, contact_phone=phone, claimed_amount="5000.00"
    )
    assert ring["investigation"]["status"] == "open"
    open_ = flow.call("investigator", "GET", "/v1/investigations?status=open")
    mine = next(i for i in open_ if i["claim_number"] == ring["claim_number"])
    body = {"outcome": "confirmed_fraud", "notes": "the account belongs to a repair-shop ring"}
    flow.call("investigator", "POST", f"/v1/investigations/{mine['id']}/outcome", body)
    return ring


def test_an_indicator_is_the_same_keyed_hash_however_it_is_written():
    key = KEY.encode()
    assert intel.keyed(key, "payee_account", "6222 0201-0000 1111") == intel.keyed(
        key, "payee_account", "6222020100001111"
    )
    assert intel.keyed(key, "phone", "+86 138 0000 1111") == intel.keyed(key, "phone", "86-138-0000-1111")
    assert intel.keyed(key, "phone", "+86 138 0000 1111") != intel.keyed(
        b"another key entirely", "phone", "+86 138 0000 1111"
    )
    assert intel.keyed(key, "phone", "13800001111") != intel.keyed(key, "payee_account", "13800001111")


def test_export_shares_confirmed_frauds_as_hashes_and_an_import_refers_a_matching_claim(
    insurer, monkeypatch, tmp_path
):
    client, url, folder = insurer
    flow = Flow(client)
    account, phone = "6222 5555 0000 7777", "+86 139 1111 2222"
    _confirmed_ring(flow, account, phone)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(folder))
    monkeypatch.setenv("CLAIMS_INTEL_KEY", KEY)
    monkeypatch.setenv("CLAIMS_INTEL_ISSUER", "Insurer A")
    out = tmp_path / "insurer-a.json"
    done = runner.invoke(cli, ["intel", "export", "--out", str(out)])
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8")
    shared = json.loads(text)
    assert shared["format"] == "claims-intel/1" and shared["issuer"] == "Insurer A"
    kinds = {i["kind"]: i["hash"] for i in shared["indicators"]}
    assert kinds == {
        "payee_account": intel.keyed(KEY.encode(), "payee_account", account),
        "phone": intel.keyed(KEY.encode(), "phone", phone),
    }
    assert "5555" not in text and "1111 2222" not in text and "139" not in text  # no raw value leaves
    # Insurer B imports it (here: the same service under another issuer's name) twice: once stored.
    shared["issuer"] = "Insurer B"
    (tmp_path / "b.json").write_text(json.dumps(shared), encoding="utf-8")
    first = runner.invoke(cli, ["intel", "import", str(tmp_path / "b.json")])
    assert (
        first.exit_code == 0 and "imported 2 indicators from Insurer B (0 already known)" in first.output
    ), first.output
    again = runner.invoke(cli, ["intel", "import", str(tmp_path / "b.json")])
    assert "imported 0 indicators from Insurer B (2 already known)" in again.output
    # A new claim on another policy reached on the same phone (and paid elsewhere) matches.
    matched = flow.report(
        policy=flow.policy(), payee_account="6222 5555 0000 8888", contact_phone="86 139-1111-2222"
    )
    reasons = [r["code"] for r in matched["adjudication"]["reasons"]]
    assert "INDUSTRY_WATCHLIST_MATCH" in reasons and matched["investigation"]["status"] == "open"
    assert matched["status"] != "denied" and matched["coverage"] != "not_covered"
    clean = flow.report(
        policy=flow.policy(), payee_account="6222 5555 0000 9999", contact_phone="+86 139 0000 0000"
    )
    assert "INDUSTRY_WATCHLIST_MATCH" not in [r["code"] for r in clean["adjudication"]["reasons"]]


def test_bad_intel_files_and_a_missing_key_are_one_line_and_exit_2(insurer, monkeypatch, tmp_path):
    _, url, folder = insurer
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(folder))
    monkeypatch.delenv("CLAIMS_INTEL_KEY", raising=False)
    no_key = runner.invoke(cli, ["intel", "export", "--out", str(tmp_path / "x.json")])
    assert no_key.exit_code == 2 and "CLAIMS_INTEL_KEY" in no_key.output
    monkeypatch.setenv("CLAIMS_INTEL_KEY", KEY)
    get_settings.cache_clear()
    cases = {
        "missing.json": (None, "no file"),
        "text.json": ("not json", "is not JSON"),
        "format.json": ({"format": "other"}, "not a claims-intel/1 file"),
        "hash.json": (
            {"format": "claims-intel/1", "issuer": "X", "indicators": [{"kind": "phone", "hash": "abc"}]},
            "64 lower-case hex",
        ),
        "kind.json": (
            {"format": "claims-intel/1", "issuer": "X", "indicators": [{"kind": "email", "hash": "a" * 64}]},
            "kind must be one of",
        ),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
        get_settings.cache_clear()
        result = runner.invoke(cli, ["intel", "import", str(path)])
        assert result.exit_code == 2 and expected in result.output and "Traceback" not in result.output, (
            name,
            result.output,
        )


def test_the_fraud_summary_counts_referrals_confirmed_frauds_and_amounts_saved(insurer, monkeypatch):
    client, url, folder = insurer
    flow = Flow(client)
    ring = _confirmed_ring(flow, "6222 4444 0000 1234", "+86 137 0000 5678")
    today = dt.datetime.now(client.app.state.runtime.settings.zone).date()  # the service's day, not UTC's
    report = flow.call("analyst", "GET", f"/v1/reports/fraud?from={today.replace(day=1)}&to={today}")
    (row,) = [r for r in report["rows"] if r["line"] == "motor"]
    assert (row["referred"], row["confirmed_fraud"], row["cleared"]) == (1, 1, 0)
    assert row["claimed_confirmed"] == ring["claimed_amount"] == "5000.00"
    assert row["saved"] == "5000.00"  # nothing of it was paid
    assert report["total"]["confirmed_fraud"] == 1
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(folder))
    csv = runner.invoke(cli, ["report", "fraud", "--format", "csv"])
    assert csv.exit_code == 0, csv.output
    assert "By line and month,motor / " in csv.output and ",saved,5000.00" in csv.output
    table = folder / "fraud.txt"
    written = runner.invoke(cli, ["report", "fraud", "--format", "table", "--out", str(table)])
    assert written.exit_code == 0, written.output
    text = table.read_text(encoding="utf-8")
    assert "5000.00" in text and "section,item" not in text and "\x1b[" not in text  # a table, not CSV
    flow.call("specialist", "GET", f"/v1/reports/fraud?from={today}&to={today}", expect=403)
