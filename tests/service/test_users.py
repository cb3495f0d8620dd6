"""`claims users add NAME ROLE` gives a person a key (the file keeps its hash); `claims users list`
shows everyone's role and teams, and names team members who have no key."""

from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from service.security import hash_key, load_key_file


def _claims(tmp_path, monkeypatch, *args):
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("CLAIMS_API_KEYS", "")
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def test_a_new_person_gets_a_key_that_signs_in_and_shows_in_the_list(tmp_path, monkeypatch):
    added = _claims(tmp_path, monkeypatch, "users", "add", "li.wei", "specialist")
    assert added.exit_code == 0, added.output
    key = added.output.split(": ", 1)[1].split()[0]
    stored = load_key_file(tmp_path / "api_keys.json")
    assert stored[hash_key(key)].name == "li.wei" and key not in (tmp_path / "api_keys.json").read_text()
    listed = _claims(tmp_path, monkeypatch, "users", "list")
    assert listed.exit_code == 0
    assert "li.wei" in listed.output and "motor-claims" in listed.output
    assert "wang.fang is a member of major-claims but has no key" in listed.output


def test_an_unknown_role_or_a_bad_name_is_one_line_and_exit_2(tmp_path, monkeypatch):
    for args in (("li.wei", "kingmaker"), ("li wei; rm", "specialist")):
        refused = _claims(tmp_path, monkeypatch, "users", "add", *args)
        assert refused.exit_code == 2 and "Traceback" not in refused.output
        assert len(refused.output.strip().splitlines()) == 1
    assert not (tmp_path / "api_keys.json").exists()
