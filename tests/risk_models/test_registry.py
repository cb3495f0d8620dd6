"""The real MLflow registry on an embedded SQLite store in a temporary folder."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from risk_models import export, registry, synth
from risk_models.features import ClaimFeatures
from risk_models.scorer import Scorer
from risk_models.train import TrainConfig, train

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def store(tmp_path_factory, monkeypatch_module):
    monkeypatch_module.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch_module.delenv(registry.OWN_URI, raising=False)
    folder = tmp_path_factory.mktemp("mlflow")
    uri = registry.configure(folder)
    assert uri == f"sqlite:///{folder / 'mlflow.db'}"
    return folder


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _result(n: int, seed: int, trees: int = 400):
    claims = synth.generate(n, seed=seed)
    config = TrainConfig(seed=seed, cv_folds=0, max_trees=trees)
    return train(claims, ClaimFeatures(), "is_fraud", "report_date", config)


@pytest.fixture(scope="module")
def versions(store):
    good = registry.log_training(_result(12_000, 1), {"source": "generated", "rows": 12_000})
    weak = registry.log_training(_result(1_500, 2, trees=3), {"source": "generated", "rows": 1_500})
    return good["version"], weak["version"]


def test_runs_are_registered_as_new_versions_with_their_artifacts(store, versions):
    good, weak = versions
    assert int(weak) == int(good) + 1
    rows = {r["version"]: r for r in registry.versions()}
    assert float(rows[good]["pr_auc"]) > float(rows[weak]["pr_auc"])
    assert rows[good]["mode"] == "claims"
    assert (store / "mlartifacts").is_dir()
    holdout = registry.holdout_of(good)
    assert len(holdout) == 2400 and "is_fraud" in holdout.columns


def test_promotion_needs_to_beat_the_champion_on_the_same_holdout(versions):
    good, weak = versions
    first = registry.promote(good)
    assert first.promoted and first.champion_version is None
    refused = registry.promote(weak)
    assert not refused.promoted
    assert refused.champion_version == good
    assert refused.candidate_pr_auc < refused.champion_pr_auc
    assert "does not beat" in refused.message
    assert {r["version"]: r["aliases"] for r in registry.versions()}[good] == ["champion"]


def test_force_needs_a_reason_and_is_recorded(versions):
    good, weak = versions
    with pytest.raises(registry.RegistryError, match="needs --reason"):
        registry.promote(weak, force=True)
    forced = registry.promote(weak, force=True, reason="rollback drill")
    assert forced.promoted
    assert registry.load("champion")[1] == weak
    back = registry.promote(good, force=True, reason="restore")
    assert back.promoted and registry.load("champion")[1] == good


def test_challenger_alias(versions):
    _, weak = versions
    assert registry.promote(weak, alias="challenger").promoted
    aliases = {r["version"]: r["aliases"] for r in registry.versions()}
    assert "challenger" in aliases[weak]


def test_scorer_loads_the_champion_once_and_scores(versions):
    good, _ = versions
    scorer = Scorer.from_registry("champion")
    assert scorer.version == good
    claim = synth.generate(5, seed=9).iloc[0].to_dict()
    result = scorer.score(claim)
    assert 0 <= result.score <= 1 and result.band in ("low", "medium", "high")
    assert result.model_name == "fraud-risk" and result.model_version == good
    assert result.factors


SERVING_WORKER = """
import json, sys
import service.main
from service.config import Settings
from service.runtime import load_scorer

scorer, error = load_scorer(Settings(data_dir=sys.argv[1]))
heavy = sorted(m for m in ("mlflow", "sklearn", "scipy", "pandas", "lightgbm", "pyarrow") if m in sys.modules)
from risk_models import synth  # imports pandas: after the check above

claims = synth.generate(20, seed=9).to_dict("records")
print(json.dumps({"error": error, "version": scorer.version, "heavy": heavy,
                  "scores": [scorer.score(c).to_dict() for c in claims]}, default=str))
"""


def test_a_serving_worker_loads_the_champion_without_mlflow_sklearn_or_pandas(store, versions):
    good, _ = versions
    done = subprocess.run(
        [sys.executable, "-c", SERVING_WORKER, str(store)], capture_output=True, text=True, check=True
    )
    worker = json.loads(done.stdout)
    assert worker["error"] is None and worker["version"] == good
    assert worker["heavy"] == []
    here = Scorer.from_registry("champion")
    expected = [here.score(c).to_dict() for c in synth.generate(20, seed=9).to_dict("records")]
    assert worker["scores"] == json.loads(json.dumps(expected, default=str))


def test_a_serving_document_that_cannot_be_had_says_why_in_one_line(store, versions):
    with pytest.raises(
        export.ExportError, match=r"^RegistryError: fraud-risk has no version or alias 'king'$"
    ):
        export.document(store, "king")


def test_an_export_whose_output_is_not_a_document_is_refused(store, versions, monkeypatch):
    real = subprocess.run

    def printing(command, **kwargs):
        done = real(command, **kwargs)
        return subprocess.CompletedProcess(command, 0, "[LightGBM] [Info] a log line\n" + done.stdout, "")

    monkeypatch.setattr(subprocess, "run", printing)
    with pytest.raises(export.ExportError, match="printed no serving document"):
        export.document(store, "champion")


LOUD_EXPORT = """
import sys
from risk_models import export, registry
real = registry.load

def load(ref):
    print("[LightGBM] [Info] a library talking on standard output")
    return real(ref)

registry.load = load
sys.exit(export.main(["--data-dir", sys.argv[1], "champion"]))
"""


def test_the_export_child_keeps_library_prints_off_its_document(store, versions):
    done = subprocess.run([sys.executable, "-c", LOUD_EXPORT, str(store)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["version"] == versions[0]
    assert "a library talking" in done.stderr


def test_an_export_from_a_folder_without_a_registry_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(export.ExportError, match="no model registry under"):
        export.document(tmp_path / "elsewhere", "champion")
    assert not (tmp_path / "elsewhere").exists()


def test_an_export_read_by_a_reader_that_stops_early_ends_without_a_traceback(store, versions):
    command = f"{sys.executable} -m risk_models.export --data-dir {store} champion | head -c 10"
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {command}"], capture_output=True, text=True)
    assert done.stdout == '{"format":'[:10] and "Traceback" not in done.stderr


def test_unknown_version_is_a_clear_error(versions):
    with pytest.raises(registry.RegistryError, match="no version or alias '999'"):
        registry.load("999")


def test_a_second_data_directory_in_one_process_gets_its_own_store(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv(registry.OWN_URI, raising=False)
    before = mlflow.get_tracking_uri()
    try:
        first = registry.configure(tmp_path / "a")
        second = registry.configure(tmp_path / "b")  # MLFLOW_TRACKING_URI now holds the first
        assert first != second and mlflow.get_tracking_uri() == second
        assert second.endswith(str(tmp_path / "b" / "mlflow.db"))
        mlflow.set_tracking_uri(first)  # pointed back at the first by hand: still not the user's
        assert registry.configure(tmp_path / "d").endswith(str(tmp_path / "d" / "mlflow.db"))
        child = "import sys; from risk_models import registry; print(registry.configure(sys.argv[1]))"
        shown = subprocess.run(
            [sys.executable, "-c", child, str(tmp_path / "e")], capture_output=True, text=True, check=True
        )
        assert shown.stdout.strip().endswith(str(tmp_path / "e" / "mlflow.db"))  # inherits, yet its own
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'theirs.db'}")
        assert registry.configure(tmp_path / "c") == f"sqlite:///{tmp_path / 'theirs.db'}"  # the user's wins
    finally:
        mlflow.set_tracking_uri(before)
        mlflow.set_registry_uri(before)


def test_the_listing_names_every_version_with_its_aliases_and_plot_files(store, versions):
    rows = export.listing(store)
    assert [r["version"] for r in rows] == sorted((r["version"] for r in rows), key=int, reverse=True)
    good, _ = versions
    plots = next(r for r in rows if r["version"] == good)["plots"]
    assert {"roc", "calibration", "feature_importance"} <= set(plots)
    assert all(Path(p).is_file() and p.endswith(".png") for p in plots.values())


def test_a_table_model_cannot_become_the_champion_even_by_force(versions):
    from tests.risk_models.test_contract import table_result

    good, _ = versions
    registry.promote(good, force=True, reason="the champion before the attempt")
    table = registry.log_training(table_result(), {"source": "another table"})["version"]
    tags = {r["version"]: r for r in registry.versions()}
    assert tags[table]["mode"] == "table"
    for force in (False, True):
        with pytest.raises(registry.RegistryError, match=r"cannot be the service's champion.*'table'-mode"):
            registry.promote(table, force=force, reason="try it" if force else None)
    assert registry.load("champion")[1] == good
    assert registry.promote(table, alias="challenger").promoted  # compared offline, never serving
