"""`claims db current|upgrade|downgrade` and `claims --version`, as an operator runs them."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _run(*arguments: str, code: int = 0) -> str:
    result = runner.invoke(app, list(arguments))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def test_the_schema_revision_goes_up_and_back_and_up_again(data_dir):
    from service.db import revisions

    head = revisions()[-1]
    assert "not migrated" in _run("db", "current")
    _run("db", "upgrade")
    assert f"schema revision {head}; newest {head}: at head" in _run("db", "current")
    assert "repeat with --yes" in _run("db", "downgrade", "0015", code=2)
    assert "no revision 'nope'" in _run("db", "downgrade", "nope", "--yes", code=2)
    assert f"schema revision {head} -> 0015" in _run("db", "downgrade", "0015", "--yes")
    assert f"schema revision 0015; newest {head}: behind" in _run("db", "current")
    _run("db", "upgrade")
    assert "at head" in _run("db", "current")


def test_the_version_is_printed():
    assert _run("--version").startswith("claims-adjudication ")
