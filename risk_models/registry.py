"""MLflow tracking and registry for the fraud-risk model: the only module that imports mlflow.

Embedded default: a SQLite backend store and a local artifact folder under the data
directory; MLFLOW_TRACKING_URI points elsewhere (a tracking server) in production.
Versions are promoted with aliases (`champion`, `challenger`), never stages.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

import mlflow
import mlflow.pyfunc
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from risk_models import evaluate
from risk_models import features as F
from risk_models.features import FeatureError
from risk_models.model import FraudRiskModel
from risk_models.train import TrainResult

MODEL_NAME = "fraud-risk"
EXPERIMENT = "fraud-risk"
HOLDOUT_ARTIFACT = "holdout/holdout.parquet"
REQUIREMENTS = ["lightgbm==4.7.0", "scikit-learn==1.9.1", "pandas==3.1.1", "numpy==2.4.6"]
TAGGED_METRICS = ("roc_auc", "pr_auc", "recall_at_10pct", "precision_at_5pct", "brier")


class RegistryError(RuntimeError):
    """A registry request that cannot be carried out (unknown version, refused promotion)."""


class _PyfuncModel(mlflow.pyfunc.PythonModel):
    """The registered artifact: scores a table of claims; the scorer unwraps it for speed."""

    def __init__(self, model: FraudRiskModel) -> None:
        self.model = model

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
        """Return calibrated score and band for each claim."""
        scores = self.model.score_frame(model_input)
        return pd.DataFrame({"score": scores, "band": self.model.bands.of_many(scores)})


# The embedded stores' URIs this process (or the one that started it) pointed MLflow at, one a
# line: set_tracking_uri exports MLFLOW_TRACKING_URI, and a value set here is not the user's,
# so another data directory (in this process or in a child such as `export`) gets its own store.
OWN_URI = "RISK_MODELS_EMBEDDED_TRACKING_URIS"


def configure(data_dir: str | Path) -> str:
    """Point MLflow at MLFLOW_TRACKING_URI or the embedded store under data_dir."""
    data_dir = Path(data_dir).resolve()
    external = os.environ.get("MLFLOW_TRACKING_URI")
    own = set(os.environ.get(OWN_URI, "").splitlines())
    external = None if external in own else external
    uri = external or f"sqlite:///{data_dir / 'mlflow.db'}"
    if not external:
        os.environ[OWN_URI] = "\n".join(sorted(own | {uri}))
        data_dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="mlflow")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        location = None if external else (data_dir / "mlartifacts").as_uri()
        mlflow.create_experiment(EXPERIMENT, artifact_location=location)
    mlflow.set_experiment(EXPERIMENT)
    return uri


def _input_example(result: TrainResult) -> pd.DataFrame:
    """A few holdout rows of the model's input fields; nullable integers as floats."""
    example = result.holdout[list(result.model.features.inputs)].head(3).copy()
    for name in example.columns:
        column = example[name]
        if pd.api.types.is_extension_array_dtype(column) and pd.api.types.is_integer_dtype(column):
            example[name] = column.astype("float64")
    return example


def log_training(result: TrainResult, description: dict[str, Any], register: bool = True) -> dict[str, Any]:
    """Record a training run (params, metrics, plots, holdout, model) and register the model."""
    model = result.model
    with (
        mlflow.start_run(run_name=description.get("run_name")) as run,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        mlflow.log_params({k: v for k, v in result.params.items() if k != "gbm_overrides"})
        mlflow.log_params({f"data_{k}": v for k, v in description.items() if k != "run_name"})
        mlflow.log_metrics({**result.metrics, **result.baseline_metrics})
        mlflow.set_tags({"mode": model.features.describe()["kind"], "label": model.label})
        if result.warnings:
            mlflow.set_tag("warnings", " | ".join(result.warnings))
        y = result.holdout[model.label].to_numpy()
        evaluate.plots(
            y, result.holdout_scores, result.baseline_scores, model.importances(), folder / "plots"
        )
        mlflow.log_artifacts(str(folder / "plots"), "plots")
        mlflow.log_dict(model.metadata, "model_metadata.json")
        mlflow.log_dict(F.contract(model.features), "inputs_contract.json")
        mlflow.log_dict({"budgets": evaluate.budget_table(y, result.holdout_scores)}, "alert_budget.json")
        holdout_path = folder / "holdout.parquet"
        result.holdout.to_parquet(holdout_path, index=False)
        mlflow.log_artifact(str(holdout_path), "holdout")
        example = _input_example(result)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=_PyfuncModel(model),
            input_example=example,
            signature=infer_signature(example, _PyfuncModel(model).predict(None, example)),
            pip_requirements=REQUIREMENTS,
            registered_model_name=MODEL_NAME if register else None,
        )
        out: dict[str, Any] = {"run_id": run.info.run_id, "version": None}
    if register:
        version = str(info.registered_model_version)
        client = MlflowClient()
        for key in TAGGED_METRICS:
            client.set_model_version_tag(MODEL_NAME, version, key, f"{result.metrics[key]:.4f}")
        client.set_model_version_tag(MODEL_NAME, version, "mode", model.features.describe()["kind"])
        client.set_model_version_tag(MODEL_NAME, version, "inputs", json.dumps(F.contract(model.features)))
        out["version"] = version
    return out


def _version(ref: str) -> Any:
    client = MlflowClient()
    try:
        if ref.isdigit():
            return client.get_model_version(MODEL_NAME, ref)
        return client.get_model_version_by_alias(MODEL_NAME, ref)
    except MlflowException:
        raise RegistryError(f"{MODEL_NAME} has no version or alias {ref!r}") from None


def load(ref: str = "champion") -> tuple[FraudRiskModel, str]:
    """Load a registered model by alias or version number; return it with its version."""
    version = _version(ref)
    wrapped = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}/{version.version}")
    return wrapped.unwrap_python_model().model, str(version.version)


def _holdout_pr_auc(model: FraudRiskModel, holdout: pd.DataFrame, label: str) -> float:
    scores = model.score_frame(holdout)
    return evaluate.metrics(holdout[label].to_numpy(), scores)["pr_auc"]


@dataclass(frozen=True)
class Promotion:
    """What a promotion did and on what evidence."""

    version: str
    alias: str
    promoted: bool
    candidate_pr_auc: float | None
    champion_version: str | None
    champion_pr_auc: float | None
    message: str


def promote(
    version: str, alias: str = "champion", force: bool = False, reason: str | None = None
) -> Promotion:
    """Point an alias at a version; `champion` only if it beats the champion on the same holdout."""
    candidate_mv = _version(version)
    if force and not reason:
        raise RegistryError("--force needs --reason, recorded with the version")
    if alias == "champion":
        # The champion scores the service's claims: a model that cannot read them would score
        # every claim alike. Not a judgement call, so --force does not lift it.
        problems = F.service_problems(F.contract(load(str(candidate_mv.version))[0].features))
        if problems:
            raise RegistryError(
                f"version {candidate_mv.version} cannot be the service's champion: {'; '.join(problems)} "
                "(--force does not override this; give it another alias, e.g. challenger)"
            )
    client = MlflowClient()
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    if alias != "champion" or force:
        client.set_registered_model_alias(MODEL_NAME, alias, candidate_mv.version)
        note = f"{alias} set by force: {reason}" if force else f"{alias} set"
        client.set_model_version_tag(MODEL_NAME, candidate_mv.version, f"{alias}_since", stamp)
        if reason:
            client.set_model_version_tag(MODEL_NAME, candidate_mv.version, f"{alias}_reason", reason)
        return Promotion(str(candidate_mv.version), alias, True, None, None, None, note)

    candidate, _ = load(str(candidate_mv.version))
    holdout_file = mlflow.artifacts.download_artifacts(
        run_id=candidate_mv.run_id, artifact_path=HOLDOUT_ARTIFACT
    )
    holdout = pd.read_parquet(holdout_file)
    candidate_pr = _holdout_pr_auc(candidate, holdout, candidate.label)
    try:
        champion_mv = client.get_model_version_by_alias(MODEL_NAME, "champion")
    except MlflowException:
        champion_mv = None
    if champion_mv is not None and champion_mv.version == candidate_mv.version:
        return Promotion(
            str(candidate_mv.version),
            alias,
            False,
            candidate_pr,
            str(champion_mv.version),
            candidate_pr,
            "already the champion",
        )
    champion_pr = None
    if champion_mv is not None:
        champion, _ = load(str(champion_mv.version))
        try:
            champion_pr = _holdout_pr_auc(champion, holdout, candidate.label)
        except (FeatureError, KeyError) as exc:
            raise RegistryError(
                f"the champion (version {champion_mv.version}) cannot score the candidate's "
                f"holdout ({exc}); they are not comparable: use --force --reason"
            ) from None
        if not candidate_pr > champion_pr:
            return Promotion(
                str(candidate_mv.version),
                alias,
                False,
                candidate_pr,
                str(champion_mv.version),
                champion_pr,
                f"refused: PR-AUC {candidate_pr:.4f} does not beat the champion's "
                f"{champion_pr:.4f} on the candidate's holdout",
            )
    client.set_registered_model_alias(MODEL_NAME, "champion", candidate_mv.version)
    client.set_model_version_tag(MODEL_NAME, candidate_mv.version, "champion_since", stamp)
    evidence = {"candidate_pr_auc": candidate_pr, "champion_pr_auc": champion_pr}
    client.set_model_version_tag(MODEL_NAME, candidate_mv.version, "promotion_evidence", json.dumps(evidence))
    return Promotion(
        str(candidate_mv.version),
        alias,
        True,
        candidate_pr,
        str(champion_mv.version) if champion_mv else None,
        champion_pr,
        "promoted",
    )


def versions() -> list[dict[str, Any]]:
    """List every registered version with its aliases and headline metrics, newest first."""
    client = MlflowClient()
    try:
        found = client.search_model_versions(f"name='{MODEL_NAME}'")
    except MlflowException:
        return []
    if not found:
        return []
    # search_model_versions leaves aliases out; the registered model has them all.
    aliases: dict[str, list[str]] = {}
    for alias, version in client.get_registered_model(MODEL_NAME).aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    rows = []
    for mv in sorted(found, key=lambda m: int(m.version), reverse=True):
        rows.append(
            {
                "version": str(mv.version),
                "aliases": sorted(aliases.get(str(mv.version), [])),
                "created": dt.datetime.fromtimestamp(mv.creation_timestamp / 1000, dt.UTC).isoformat(
                    timespec="seconds"
                ),
                "run_id": mv.run_id,
                **{k: mv.tags.get(k) for k in (*TAGGED_METRICS, "mode")},
            }
        )
    return rows


def plots(run_id: str) -> dict[str, Path]:
    """The evaluation plots a run keeps, by name (a local store gives its files in place)."""
    from mlflow.artifacts import download_artifacts

    try:
        folder = Path(download_artifacts(run_id=run_id, artifact_path="plots"))
    except MlflowException:  # a run without plots lists none
        return {}
    return {p.stem: p.resolve() for p in sorted(folder.glob("*.png"))}


def holdout_of(version: str) -> pd.DataFrame:
    """Return the raw holdout rows a version was evaluated on."""
    mv = _version(version)
    return pd.read_parquet(
        mlflow.artifacts.download_artifacts(run_id=mv.run_id, artifact_path=HOLDOUT_ARTIFACT)
    )
