"""`claims serve` as an operator starts it: real worker processes, the champion loaded from the
registry, and none of the training libraries in a worker's memory."""

from __future__ import annotations

import contextlib
import json
import os
import re
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


@contextlib.contextmanager
def _serving(data_dir: Path, workers: int = 2, **extra: str):
    """`claims serve --workers N` on the data folder; yield its base URL and process once ready."""
    env = {
        **os.environ,
        "CLAIMS_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'claims.db'}",
        "CLAIMS_API_KEYS": "claims_system:claims-system:serve-test-key",
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.pop("CLAIMS_SERVING_MODEL", None)
    subprocess.run([*CLAIMS, "db", "upgrade"], env=env, check=True, capture_output=True)
    port = _free_port()
    log = data_dir / "server.log"
    with open(log, "w") as out:  # a file, not a pipe nobody reads while the server logs
        server = subprocess.Popen(
            [*CLAIMS, "serve", "--workers", str(workers), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=out,
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
        assert ready is not None and ready.status_code == 200, log.read_text()
        yield f"http://127.0.0.1:{port}", server
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/PID/maps")
def test_serve_workers_score_with_the_champion_and_hold_no_training_library(data_dir: Path):
    with _serving(data_dir) as (url, server):
        assert httpx.get(f"{url}/readyz").json()["model"] == "fraud-risk@1"
        assert (data_dir / "serving-model.json").is_file()  # exported once, for both workers
        children = [_mapped(p.pid) for p in psutil.Process(server.pid).children()]
        # A worker has LightGBM's library mapped (the model is loaded); the resource tracker has not.
        workers = [mapped for mapped in children if any("lib_lightgbm" in m for m in mapped)]
        assert len(workers) == 2
        for mapped in workers:
            assert [m for m in mapped if any(lib in m for lib in TRAINING_LIBRARIES)] == []
    # Every line the server wrote, uvicorn's own included, is one JSON object.
    lines = [line for line in (data_dir / "server.log").read_text().splitlines() if line.strip()]
    assert lines and all(json.loads(line).get("event") for line in lines), lines[:5]
    assert any(json.loads(line).get("logger", "").startswith("uvicorn") for line in lines)


@pytest.mark.parametrize("workers", [1, 2])  # one worker runs in claims serve's own process
def test_a_new_champion_reaches_the_running_workers_without_a_restart(data_dir: Path, workers: int):
    with _serving(data_dir, workers, CLAIMS_MODEL_REFRESH_SECONDS="1") as (url, server):
        assert httpx.get(f"{url}/readyz").json()["model"] == "fraud-risk@1"
        claims = synth.generate(3000, seed=6)
        result = train(claims, ClaimFeatures(), "is_fraud", "report_date", TrainConfig(seed=6, cv_folds=0))
        second = registry.log_training(result, {"source": "generated", "rows": 3000})["version"]
        assert registry.promote(second, force=True, reason="switch drill").promoted
        seen: list[str] = []
        deadline = time.monotonic() + 90
        # Both workers must answer with the new version (each request lands on either one).
        while time.monotonic() < deadline and seen[-20:] != [f"fraud-risk@{second}"] * 20:
            seen.append(httpx.get(f"{url}/readyz", timeout=5).json()["model"])
            time.sleep(0.1 if seen[-1].endswith(f"@{second}") else 0.5)
        assert seen[-20:] == [f"fraud-risk@{second}"] * 20, seen[-25:]
        assert server.poll() is None  # the same processes: no restart
        metrics = httpx.get(f"{url}/metrics", headers={"X-API-Key": "serve-test-key"}).text
        shown = re.findall(
            r'claims_component_info\{component="model",name="fraud-risk",(?:pid="\d+",)?version="(\d+)"\} 1',
            metrics,
        )
        assert str(second) in shown, metrics[:2000]
