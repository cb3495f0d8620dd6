"""Train the fraud-risk model: out-of-time split, LightGBM pipeline, calibration, baseline.

`train()` is a pure function of its data and config: the caller owns tracking and registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

from risk_models import drift, evaluate, frames, tabular
from risk_models import features as F
from risk_models.model import Bands, FraudRiskModel

MIN_POSITIVES_FOR_ISOTONIC = 300


@dataclass(frozen=True)
class TrainConfig:
    """How to split, fit and band; every random step is seeded."""

    seed: int = 7
    holdout: float = 0.20  # newest share of claims, never seen in fitting or calibration
    calibration: float = 0.15  # the share just before the holdout: early stopping + isotonic
    high_budget: float = 0.05  # share of claims banded high (the investigation budget)
    medium_budget: float = 0.15
    cv_folds: int = 3  # shuffled CV, only to warn when it looks too good; 0 skips
    max_trees: int = 400
    gbm_overrides: tuple[tuple[str, Any], ...] = ()  # LightGBM settings to force, as pairs
    refit_below: int = 5000  # refit on fit + calibration rows when fewer fit rows than this


@dataclass
class TrainResult:
    """A trained model with everything the run should record."""

    model: FraudRiskModel
    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    holdout: pd.DataFrame  # the raw holdout rows, so a later model can be compared on them
    holdout_scores: np.ndarray
    baseline_scores: np.ndarray
    params: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def split_by_time(
    data: pd.DataFrame, time_column: str | None, config: TrainConfig, label: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return row positions of fit, calibration and holdout parts (oldest to newest).

    Rows with no time are fitted on, never held out or calibrated on: where they belong in
    time is unknown. Without a time column the parts are a seeded random split.
    """
    n = len(data)
    if time_column is not None:
        when = tabular.times(data[time_column]).to_numpy(dtype="datetime64[ns]")
        known = np.flatnonzero(~np.isnat(when))
        undated = np.flatnonzero(np.isnat(when))
        order = known[np.argsort(when[known], kind="stable")]
    else:
        order, undated = np.random.default_rng(config.seed).permutation(n), np.array([], dtype=int)
    cut_holdout = round(len(order) * (1 - config.holdout))
    cut_calib = round(len(order) * (1 - config.holdout - config.calibration))
    parts = np.concatenate([undated, order[:cut_calib]]), order[cut_calib:cut_holdout], order[cut_holdout:]
    for name, part in zip(("fit", "calibration", "holdout"), parts, strict=True):
        values = data[label].iloc[part]
        if values.nunique() < 2:
            where = f" (ordered by {time_column}: the labels are clustered in time)" if time_column else ""
            only = values.iloc[0] if len(values) else "nothing"
            raise ValueError(
                f"the {name} part ({len(part)} rows) has only {label} = {only}{where}: "
                "train on more history, with both outcomes in every period"
            )
    return parts


def single_column_aucs(x: pd.DataFrame, y: np.ndarray, features: F.FeatureSet) -> dict[str, float]:
    """How well each feature alone separates the labels (ROC-AUC, either direction)."""
    from sklearn.metrics import roc_auc_score

    out = {}
    for name in (*features.numeric, *features.categorical):
        column = x[name]
        if name in features.categorical:
            # Each level stands for its share of frauds, smoothed toward the overall share.
            text = column.astype(object).where(column.notna(), "(missing)").astype(str)
            seen = pd.DataFrame({"level": text, "y": y}).groupby("level")["y"].agg(["sum", "count"])
            share = (seen["sum"] + 10 * y.mean()) / (seen["count"] + 10)
            values = text.map(share).to_numpy(dtype=float)
        else:
            values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
            values = np.where(
                np.isnan(values), np.nanmedian(values) if np.isfinite(values).any() else 0, values
            )
        if np.ptp(values) == 0:
            continue
        auc = roc_auc_score(y, values)
        out[name] = max(auc, 1 - auc)
    return out


def leak_warnings(aucs: dict[str, float]) -> list[str]:
    """A column that alone separates the labels far better than any other is likely a leak."""
    if not aucs:
        return []
    ranked = sorted(aucs.items(), key=lambda kv: -kv[1])
    (best, top), second = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.5)
    if top >= 0.97 or (top >= 0.85 and top - second >= 0.15):
        return [
            f"column {best!r} alone separates the labels (ROC-AUC {top:.3f}, the next best {second:.3f}): "
            "it may leak the label (filled in after the investigation, or an id); "
            f"check it, and leave it out with --drop {best}"
        ]
    return []


def gbm_params(n_rows: int, seed: int, max_trees: int) -> dict[str, Any]:
    """Return LightGBM settings scaled to the data size (small tables get simpler trees)."""
    small = n_rows < 5000
    return {
        "n_estimators": max_trees,
        "learning_rate": 0.03 if small else 0.05,
        "num_leaves": 4 if small else 15,
        "min_child_samples": 20 if small else max(20, n_rows // 1000),
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 5.0 if small else 1.0,
        "random_state": seed,
        "n_jobs": 1,
        "deterministic": True,
        "force_col_wise": True,
        "verbose": -1,
    }


def column_transformer(numeric: tuple[str, ...], categorical: tuple[str, ...]) -> ColumnTransformer:
    """Numeric features pass through; categories become codes (unknown or absent: NaN)."""
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=np.nan, encoded_missing_value=np.nan
    )
    return ColumnTransformer(
        [("num", "passthrough", list(numeric)), ("cat", encoder, list(categorical))],
        verbose_feature_names_out=False,
    )


def baseline_pipeline(numeric: tuple[str, ...], categorical: tuple[str, ...], seed: int) -> Pipeline:
    """Return the logistic-regression baseline: impute, scale, one-hot, regularized logit."""
    num = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", add_indicator=True)),
            ("scale", StandardScaler()),
        ]
    )
    cat = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="missing")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", min_frequency=5)),
        ]
    )
    columns = ColumnTransformer([("num", num, list(numeric)), ("cat", cat, list(categorical))])
    logit = LogisticRegression(max_iter=3000, C=0.5, random_state=seed)
    return Pipeline([("columns", columns), ("model", logit)])


def calibration_map(raw: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Fit raw log-odds to probabilities; return the map as an interpolation table.

    Isotonic regression when the calibration part has enough frauds; with few, it collapses
    scores into a handful of steps (ties that destroy the ranking), so Platt scaling instead.
    """
    if y.sum() >= MIN_POSITIVES_FOR_ISOTONIC:
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(raw, y)
        return (
            np.asarray(iso.X_thresholds_, float),
            np.asarray(iso.y_thresholds_, float),
            "isotonic",
        )
    platt = LogisticRegression(C=1e6, random_state=seed).fit(raw.reshape(-1, 1), y)
    grid = np.linspace(raw.min() - 10, raw.max() + 10, 2048)
    return grid, platt.predict_proba(grid.reshape(-1, 1))[:, 1], "sigmoid"


def _fit_gbm(
    columns: ColumnTransformer,
    x_fit: pd.DataFrame,
    y_fit: np.ndarray,
    x_cal: pd.DataFrame,
    y_cal: np.ndarray,
    params: dict[str, Any],
    n_numeric: int,
) -> tuple[Pipeline, int]:
    encoded_fit = columns.fit_transform(x_fit)
    encoded_cal = columns.transform(x_cal)
    categorical = list(range(n_numeric, encoded_fit.shape[1]))
    model = lgb.LGBMClassifier(**params)
    model.fit(
        encoded_fit,
        y_fit,
        eval_X=encoded_cal,
        eval_y=y_cal,
        categorical_feature=categorical,
        callbacks=[lgb.early_stopping(50, verbose=False)],
    )
    return Pipeline([("columns", columns), ("model", model)]), int(model.best_iteration_ or 0)


def _shuffled_cv_auc(
    x: pd.DataFrame, y: np.ndarray, features: F.FeatureSet, params: dict, config: TrainConfig
) -> float:
    folds = StratifiedKFold(config.cv_folds, shuffle=True, random_state=config.seed)
    n_numeric = len(features.numeric)
    aucs = []
    for train_idx, test_idx in folds.split(x, y):
        columns = column_transformer(features.numeric, features.categorical)
        encoded = columns.fit_transform(x.iloc[train_idx])
        model = lgb.LGBMClassifier(**params)
        model.fit(encoded, y[train_idx], categorical_feature=list(range(n_numeric, encoded.shape[1])))
        scores = model.predict_proba(columns.transform(x.iloc[test_idx]))[:, 1]
        aucs.append(roc_auc_score(y[test_idx], scores))
    return float(np.mean(aucs))


def train(
    data: pd.DataFrame,
    features: F.FeatureSet,
    label: str,
    time_column: str | None,
    config: TrainConfig = TrainConfig(),
    on_step: Callable[[str], None] | None = None,
) -> TrainResult:
    """Fit, calibrate and evaluate on an out-of-time holdout; compare with the baseline."""
    step = on_step or (lambda _s: None)
    y_all = data[label].to_numpy(dtype=int)
    fit_idx, cal_idx, hold_idx = split_by_time(data, time_column, config, label)
    step("features")
    if hasattr(features, "fit"):
        features.fit(data.iloc[fit_idx])
    x_all = frames.frame(features, data)
    x_fit, x_cal, x_hold = (x_all.iloc[i] for i in (fit_idx, cal_idx, hold_idx))
    y_fit, y_cal, y_hold = (y_all[i] for i in (fit_idx, cal_idx, hold_idx))

    step("gradient boosting")
    params = {
        **gbm_params(len(fit_idx), config.seed, config.max_trees),
        **dict(config.gbm_overrides),
    }
    columns = column_transformer(features.numeric, features.categorical)
    pipeline, best = _fit_gbm(columns, x_fit, y_fit, x_cal, y_cal, params, len(features.numeric))

    step("calibration")
    raw_cal = pipeline[-1].booster_.predict(pipeline[:-1].transform(x_cal), raw_score=True)
    cal_x, cal_y, method = calibration_map(raw_cal, y_cal, config.seed)
    cal_scores = np.interp(raw_cal, cal_x, cal_y)
    if config.refit_below and len(fit_idx) < config.refit_below:
        # Small tables: the calibration rows are too valuable to leave out of the trees.
        # Refit on both parts with the early-stopped tree count; keep the calibration map.
        step("refit on fit + calibration rows")
        trees = max(int(best * (len(fit_idx) + len(cal_idx)) / len(fit_idx)), 10)
        refit_params = {**params, "n_estimators": trees}
        columns = column_transformer(features.numeric, features.categorical)
        x_both, y_both = pd.concat([x_fit, x_cal]), np.concatenate([y_fit, y_cal])
        encoded = columns.fit_transform(x_both)
        gbm = lgb.LGBMClassifier(**refit_params).fit(
            encoded,
            y_both,
            categorical_feature=list(range(len(features.numeric), encoded.shape[1])),
        )
        pipeline = Pipeline([("columns", columns), ("model", gbm)])
    high = float(np.quantile(cal_scores, 1 - config.high_budget))
    medium = min(float(np.quantile(cal_scores, 1 - config.medium_budget)), high)
    model = FraudRiskModel(
        features=features,
        pipeline=pipeline,
        calibration_x=cal_x,
        calibration_y=cal_y,
        bands=Bands(medium=medium, high=high),
        label=label,
    )

    step("baseline")
    baseline = baseline_pipeline(features.numeric, features.categorical, config.seed)
    baseline.fit(pd.concat([x_fit, x_cal]), np.concatenate([y_fit, y_cal]))
    baseline_scores = baseline.predict_proba(x_hold)[:, 1]

    step("evaluation")
    scores = model.calibrate(model.raw_scores(x_hold))
    result_metrics = evaluate.metrics(y_hold, scores)
    warnings = leak_warnings(single_column_aucs(x_fit, y_fit, features))
    if config.cv_folds:
        step("shuffled cross-validation")
        cv_params = {**params, "n_estimators": max(best, 50)}
        x_train = pd.concat([x_fit, x_cal])
        cv_auc = _shuffled_cv_auc(x_train, np.concatenate([y_fit, y_cal]), features, cv_params, config)
        result_metrics["shuffled_cv_roc_auc"] = cv_auc
        if cv_auc > 0.97 or cv_auc - result_metrics["roc_auc"] > 0.05:
            warnings.append(
                f"shuffled cross-validation ROC-AUC {cv_auc:.3f} is far above the out-of-time "
                f"{result_metrics['roc_auc']:.3f}: a column may leak the label (an id, or a "
                "field filled in after the investigation); check the importance plot"
            )
    times = None
    if time_column:
        times = tabular.times(data[time_column].iloc[hold_idx]).dt.date
    model.metadata = {
        "label": label,
        "time_column": time_column,
        "rows": {"fit": len(fit_idx), "calibration": len(cal_idx), "holdout": len(hold_idx)},
        "undated_rows": int(tabular.times(data[time_column]).isna().sum()) if time_column else 0,
        "holdout_from": str(times.min()) if times is not None else None,
        "holdout_to": str(times.max()) if times is not None else None,
        "best_iteration": best,
        "calibration": method,
        "features": features.describe(),
        "reference": drift.profile(
            pd.concat([x_fit, x_cal]), model.calibrate(model.raw_scores(pd.concat([x_fit, x_cal])))
        ),
    }
    return TrainResult(
        model=model,
        metrics=result_metrics,
        baseline_metrics=evaluate.metrics(y_hold, baseline_scores, prefix="baseline_"),
        holdout=data.iloc[hold_idx].reset_index(drop=True),
        holdout_scores=scores,
        baseline_scores=baseline_scores,
        params={**{k: v for k, v in params.items() if k != "verbose"}, **config.__dict__},
        warnings=warnings,
    )
