"""The layering and code-style contracts, checked by the suite."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    return str(BIN / name) if (BIN / name).exists() else shutil.which(name) or name


def test_import_contracts_hold():
    result = subprocess.run([tool("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_ruff_lint_is_clean():
    result = subprocess.run([tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean():
    result = subprocess.run(
        [tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_module_stands_on_a_floor_of_the_layers_contract():
    # import-linter cannot require this of a contract without containers: a new module left
    # off the floors would be free to import anything.
    import tomllib

    import grimp

    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    floors = next(c for c in contracts if c["type"] == "layers")["layers"]
    placed = [m.strip() for floor in floors for m in floor.replace("|", ":").split(":")]
    modules = {m for m in grimp.build_graph("service").modules if ".migrations" not in m}
    unplaced = sorted(
        m
        for m in modules
        if not any(m == p or m.startswith(p + ".") for p in placed)
        and not any(p.startswith(m + ".") for p in placed)  # a package whose modules are placed
    )
    assert unplaced == []
    assert {"service.adjudication.flow", "service.rulebooks.store", "service.models.claims"} <= modules


def test_serving_and_the_libraries_leave_matplotlib_alone():
    # The service does not pay for plotting, and a notebook keeps its own chart backend.
    code = (
        "import sys, matplotlib; matplotlib.use('svg');"
        "import service.main, rules.backtest, risk_models.drift, risk_models.evaluate;"
        "import service.reports.render;"
        "print(matplotlib.get_backend())"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert shown.returncode == 0 and shown.stdout.strip() == "svg", shown.stderr
    served = subprocess.run(
        [sys.executable, "-c", "import sys, service.main; print('matplotlib' in sys.modules)"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert served.stdout.strip() == "False", served.stderr


HEAVY = ("pandas", "numpy", "sklearn", "scipy", "lightgbm", "mlflow", "matplotlib", "sqlalchemy", "fastapi")


def test_the_command_line_loads_no_heavy_library_until_a_command_needs_it():
    """`claims --help` answers at once: the data, model and web stacks load inside the commands."""
    probe = f"import sys, service.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"imported by service.cli: {result.stdout.strip()}"
    shown = subprocess.run(
        [sys.executable, "-m", "service.cli", "model", "train", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert shown.returncode == 0 and "--time-as-feature" in shown.stdout, shown.stderr


def _pins(text: str) -> dict[str, str]:
    import re

    found = re.findall(r"^([A-Za-z0-9_.\[\]-]+)==([^\s\\;]+)", text, re.M)
    return {re.sub(r"\[.*\]", "", name).lower().replace("_", "-"): version for name, version in found}


def test_the_locks_hold_every_pinned_dependency_at_its_pin():
    """`make lock` was run after the last change to pyproject.toml: the locks install what it pins."""
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _pins("\n".join(project["dependencies"]))
    tools = _pins("\n".join(d for extra in project["optional-dependencies"].values() for d in extra))
    locked = _pins((ROOT / "requirements.lock").read_text(encoding="utf-8"))
    dev = _pins((ROOT / "requirements-dev.lock").read_text(encoding="utf-8"))
    assert {n: v for n, v in runtime.items() if locked.get(n) != v} == {}
    assert {n: v for n, v in {**runtime, **tools}.items() if dev.get(n) != v} == {}
    assert {n: v for n, v in locked.items() if dev.get(n) != v} == {}, "the two locks disagree"
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert len(re.findall(r"--hash=sha256:", text)) >= len(locked)
