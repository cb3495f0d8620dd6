"""The analysts' and risk team's notebooks run top to bottom on small data, so they never rot."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def _images(book: nbformat.NotebookNode) -> int:
    """How many charts the executed notebook shows."""
    return sum("image/png" in o.get("data", {}) for cell in book.cells for o in cell.get("outputs", []))


def _run(name: str, parameters: str, cwd: Path) -> nbformat.NotebookNode:
    book = nbformat.read(NOTEBOOKS / name, as_version=4)
    book.cells[1].source = parameters  # the parameters cell
    NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    return book


@pytest.mark.model
def test_rule_tuning_notebook(tmp_path):
    book = _run("rule_tuning.ipynb", "CLAIMS = 3000\nNEW_SIMPLE_MAX = 5000", tmp_path)
    printed = "".join(o.get("text", "") for o in book.cells[-1].outputs)
    assert "of claims change route" in printed
    assert _images(book) >= 1  # the firing rates and route flips are drawn, not only computed


@pytest.mark.model
def test_fraud_model_retraining_notebook(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    book = _run("fraud_model_retraining.ipynb", f"CLAIMS = 8000\nDATA_DIR = {str(tmp_path)!r}", tmp_path)
    result = book.cells[-1].outputs[0]["data"]["text/plain"]
    assert "(True, 'promoted')" in result  # the first model in an empty registry becomes champion
    assert _images(book) >= 1  # the ROC and precision-recall curves


@pytest.mark.model
def test_the_fraud_notebook_uses_the_services_registry(tmp_path, monkeypatch):
    """Left to itself, the notebook's registry is the service's data folder, not one beside it."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("CLAIMS_DATA_DIR", str(tmp_path / "service-data"))
    book = _run("fraud_model_retraining.ipynb", "CLAIMS = 4000\nDATA_DIR = None", NOTEBOOKS)
    printed = "".join(o.get("text", "") for o in book.cells[2].outputs)
    assert f"sqlite:///{tmp_path / 'service-data' / 'mlflow.db'}" in printed
    assert not (NOTEBOOKS / "data").exists()
