"""`claims policies import FILE.csv`: every row or none."""

from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from service.cli import app
from service.config import get_settings
from service.database import make_engine
from service.db import upgrade

HEADER = "policy_number,product,holder_name,start_date,end_date,sum_insured,deductible,theft_cover"


def _run(tmp_path, monkeypatch, lines):
    url = f"sqlite:///{tmp_path / 'claims.db'}"
    if not (tmp_path / "claims.db").exists():
        upgrade(make_engine(url))
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    csv = tmp_path / "policies.csv"
    csv.write_text("\n".join([HEADER, *lines]), encoding="utf-8")
    try:
        result = CliRunner().invoke(app, ["policies", "import", str(csv)])
    finally:
        get_settings.cache_clear()
    with create_engine(url).connect() as connection:
        rows = connection.execute(
            text("SELECT policy_number, options FROM policies ORDER BY policy_number")
        ).all()
    return result, rows


def test_import_loads_every_row(tmp_path, monkeypatch):
    result, rows = _run(
        tmp_path,
        monkeypatch,
        [
            "IMP-0001,motor,A,2026-01-01,2026-12-31,300000.00,500.00,true",
            "IMP-0002,health,B,2026-01-01,2026-12-31,500000.00,200.00,",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "imported 2 policies" in result.output
    assert [r[0] for r in rows] == ["IMP-0001", "IMP-0002"]
    assert '"theft_cover": true' in rows[0][1]


def test_one_bad_row_loads_nothing_and_names_the_line(tmp_path, monkeypatch):
    result, rows = _run(
        tmp_path,
        monkeypatch,
        [
            "IMP-0003,motor,A,2026-01-01,2026-12-31,300000.00,500.00,true",
            "IMP-0004,boat,B,2026-01-01,2026-12-31,-5,200.00,",
        ],
    )
    assert result.exit_code == 1
    assert "line 3: product" in result.output and "line 3: sum_insured" in result.output
    assert rows == []


def test_a_large_import_is_chunked_and_still_all_or_nothing(tmp_path, monkeypatch):
    lines = [f"BIG-{i:05d},motor,H {i},2026-01-01,2026-12-31,300000.00,500.00,true" for i in range(2500)]
    result, rows = _run(tmp_path, monkeypatch, lines)
    assert result.exit_code == 0 and "imported 2500 policies" in result.output, result.output
    assert len(rows) == 2500
    # The last chunk holds a number stored already: nothing of the new file is kept.
    again = [f"NEW-{i:05d},motor,H,2026-01-01,2026-12-31,300000.00,500.00," for i in range(2100)]
    result, rows = _run(tmp_path, monkeypatch, [*again, lines[-1]])
    assert result.exit_code == 1 and "BIG-02499 already exists" in result.output
    assert len(rows) == 2500
    twice = [lines[0].replace("BIG", "TWO"), lines[0].replace("BIG", "TWO")]
    result, rows = _run(tmp_path, monkeypatch, twice)
    assert result.exit_code == 1 and "in the file more than once" in result.output and len(rows) == 2500


def test_a_missing_file_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(app, ["policies", "import", str(tmp_path / "none.csv")])
    assert result.exit_code == 2 and "does not exist" in result.output and "Traceback" not in result.output
