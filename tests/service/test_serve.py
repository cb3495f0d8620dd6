"""`claims serve` as an operator starts it: real worker processes, the champion loaded from the
registry, and none of the training libraries in a worker's memory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from risk_models import registry, synth
from risk_models.features import ClaimFeatures
from risk_models.train import TrainConfig, train

# Shared libraries that only the training side maps: if a worker maps one, it imported it.
TRAINING_LIBRARIES = ("/pandas/", "/sklearn/", "/scipy/", "/pyarrow/", "/matplotlib/")
CLAIMS = [sys.executable, "-m", "service.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


pytestmark = pytest.mark.model


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv(registry.OWN_URI, raising=False)
    registry.configure(tmp_path)
    claims = synth.generate(4000, seed=5)
    result = train(claims, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=5, cv_folds=0))
    registry.promote(registry.log_training(result, {"source": "generated", "rows": 4000})["version"])
    return tmp_path


def _mapped(pid: int) -> set[str]:
    with open(f"/proc/{pid}/maps", encoding="utf-8") as maps:
        return {line.split()[-1] for line in maps if "/" in line}


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
def test_serve_workers_score_with_the_champion_and_hold_no_training_library(data_dir: Path):
    env = {
        **os.environ,
        "CLAIMS_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'claims.db'}",
        "CLAIMS_API_KEYS": "claims_system:claims-system:serve-test-key",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("CLAIMS_SERVING_MODEL", None)
    subprocess.run([*CLAIMS, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    log = data_dir / "server.log"
    with open(log, "w") as out:  # a file, not a pipe nobody reads while the server logs
        server = subprocess.Popen(
            [*CLAIMS, "serve", "--workers", "2", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    try:
        ready = None
        for _ in range(240):
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
                if ready.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, log.read_text()
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 200
        assert ready.json()["model"] == "fraud-risk@1"
        assert (data_dir / "serving-model.json").is_file()  # exported once, for both workers
        children = [_mapped(p.pid) for p in psutil.Process(server.pid).children()]
        # A worker has LightGBM's library mapped (the model is loaded); the resource tracker has not.
        workers = [mapped for mapped in children if any("lib_lightgbm" in m for m in mapped)]
        assert len(workers) == 2
        for mapped in workers:
            assert [m for m in mapped if any(lib in m for lib in TRAINING_LIBRARIES)] == []
    finally:
        server.terminate()
        server.wait(timeout=30)
