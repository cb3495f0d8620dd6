"""API keys in the database: created once and shown once, taken by a running service without a
restart, revoked everywhere within the refresh; the environment's keys keep working."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.cli import app as cli
from service.config import Settings, get_settings
from service.main import create_app
from tests.service.conftest import KEYS, env_keys, migrated_database

runner = CliRunner()


@pytest.fixture(params=["sqlite", "postgres"])
def service(request, scorer, tmp_path_factory, monkeypatch):
    url = migrated_database(request.param, tmp_path_factory)
    folder = tmp_path_factory.mktemp("keys")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(folder))
    get_settings.cache_clear()
    settings = Settings(
        data_dir=folder, database_url=url, api_keys=env_keys(), load_model=False, keys_refresh_seconds=0
    )
    with TestClient(create_app(settings, scorer=scorer)) as client:
        yield client
    get_settings.cache_clear()


def _cli(*arguments: str, code: int = 0) -> str:
    result = runner.invoke(cli, list(arguments))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_a_key_made_on_the_command_line_opens_the_api_until_it_is_revoked(service):
    made = _cli("keys", "create", "--name", "li.wei", "--role", "specialist")
    key = re.search(r"key \d+ for li\.wei \(specialist\): (\S+)", made).group(1)
    assert service.get("/v1/queues/mine", headers={"X-API-Key": key}).status_code == 200  # no restart
    listed = _cli("keys", "list")
    assert (
        "li.wei" in listed and "live" in listed and key[:6] in listed and key not in listed
    )  # never the key
    assert "revoked 1 key(s) of li.wei" in _cli("keys", "revoke", "li.wei")
    refused = service.get("/v1/queues/mine", headers={"X-API-Key": key})
    assert refused.status_code == 401 and refused.headers["content-type"].startswith(
        "application/problem+json"
    )
    assert "revoked" in _cli("keys", "list")
    assert "no live key" in _cli("keys", "revoke", "li.wei", code=2)
    # The environment's keys are not the database's to revoke: they still work.
    assert service.get("/v1/queues/mine", headers={"X-API-Key": KEYS["specialist"]}).status_code == 200


def test_a_key_for_an_unknown_role_is_refused_in_one_line(service):
    assert "unknown role 'king'" in _cli("keys", "create", "--name", "x", "--role", "king", code=2)
    assert "no keys in the database" in _cli("keys", "list")
