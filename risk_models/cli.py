"""`claims model ...`: generate data, train, promote, list, score and check drift."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

# pandas, scikit-learn and the rest load inside the commands that use them: `--help` answers at once.
if TYPE_CHECKING:
    import pandas as pd

    from risk_models.train import TrainResult

app = typer.Typer(help="Train, register, promote and serve the fraud-risk model.", no_args_is_help=True)
console = Console(soft_wrap=True)


@dataclass(frozen=True)
class Sources:
    """Where `--from-db` and `--recent db` read, given by an application that owns a claims
    database (this library never imports one): `app.add_typer(app, context_settings={"obj": …})`.
    """

    labelled: Callable[[], pd.DataFrame] | None = None  # claims with investigation outcomes
    recent: Callable[[], pd.DataFrame] | None = None  # recently reported claims, for drift


DataDir = Annotated[
    Path, typer.Option("--data-dir", envvar="CLAIMS_DATA_DIR", help="where data and MLflow live")
]


def _registry(data_dir: Path):
    from risk_models import registry

    registry.configure(data_dir)
    return registry


@app.command("synth")
def synth_cmd(
    n: Annotated[int, typer.Option("--n", min=1, help="number of claims")] = 100_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    out: Annotated[Path, typer.Option(help=".parquet or .csv")] = Path("data/claims.parquet"),
) -> None:
    """Generate realistic claims with about 5% injected fraud."""
    from risk_models import synth

    with console.status(f"generating {n:,} claims"):
        frame = synth.generate(n, seed=seed)
        path = synth.write(frame, out)
    console.print(f"wrote {len(frame):,} claims ({frame['is_fraud'].mean():.2%} fraud) to {path}")


def _print_metrics(result: TrainResult) -> None:
    table = Table("metric", "model", "logistic baseline")
    for key in (
        "roc_auc",
        "pr_auc",
        "precision_at_5pct",
        "recall_at_5pct",
        "precision_at_10pct",
        "recall_at_10pct",
        "brier",
    ):
        table.add_row(key, f"{result.metrics[key]:.4f}", f"{result.baseline_metrics['baseline_' + key]:.4f}")
    if "shuffled_cv_roc_auc" in result.metrics:
        table.add_row("shuffled_cv_roc_auc", f"{result.metrics['shuffled_cv_roc_auc']:.4f}", "")
    console.print(table)
    meta = result.model.metadata
    kind = "newest claims" if meta["time_column"] else "claims drawn at random (no time column)"
    console.print(
        f"holdout: {meta['rows']['holdout']:,} {kind}"
        + (f" ({meta['holdout_from']} .. {meta['holdout_to']})" if meta["holdout_from"] else "")
        + f"; calibration {meta['calibration']}; bands medium >= {result.model.bands.medium:.4f}, "
        f"high >= {result.model.bands.high:.4f}"
    )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")


@app.command("train")
def train_cmd(
    ctx: typer.Context,
    data_dir: DataDir = Path("data"),
    data: Annotated[Path | None, typer.Option("--data", help="your own CSV/Parquet history")] = None,
    label: Annotated[str, typer.Option(help="fraud label column (with --data)")] = "is_fraud",
    time_column: Annotated[str | None, typer.Option(help="orders claims in time (auto)")] = None,
    n: Annotated[int, typer.Option("--n", help="generated claims when no --data")] = 100_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    register: Annotated[bool, typer.Option(help="register the model as a new version")] = True,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="train on the service's labelled claims")
    ] = False,
    drop: Annotated[
        list[str] | None, typer.Option("--drop", help="leave a column out (repeat, or COL,COL)")
    ] = None,
    keep: Annotated[
        list[str] | None,
        typer.Option("--keep", help="keep a column the rules would drop (repeat, or COL,COL)"),
    ] = None,
    time_as_feature: Annotated[
        bool, typer.Option("--time-as-feature", help="also learn from the time column's value")
    ] = False,
) -> None:
    """Train on generated claims, or on any claims table with --data FILE --label COLUMN."""
    try:
        _train(
            ctx, data_dir, data, label, time_column, n, seed, register, from_db, drop, keep, time_as_feature
        )
    except ValueError as exc:  # the table, the label or a column named: the user's to fix
        console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None


def _mistake(message: str) -> NoReturn:
    """A mistake of the caller's: one line and exit 2."""
    console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def _columns(values: list[str] | None) -> list[str]:
    return [c.strip() for v in values or () for c in v.split(",") if c.strip()]


def _train(
    ctx: typer.Context,
    data_dir: Path,
    data: Path | None,
    label: str,
    time_column: str | None,
    n: int,
    seed: int,
    register: bool,
    from_db: bool,
    drop: list[str] | None,
    keep: list[str] | None,
    time_as_feature: bool,
) -> None:
    from risk_models import synth, tabular
    from risk_models.features import ClaimFeatures
    from risk_models.train import TrainConfig, train

    if (drop or keep or time_as_feature) and (data is None or from_db):
        raise ValueError("--drop, --keep and --time-as-feature apply to a table given with --data")
    config = TrainConfig(seed=seed)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as bar:
        task = bar.add_task("loading data")
        if from_db:
            frame = _history(ctx, "labelled")
            if len(frame) < 200 or frame["is_fraud"].nunique() < 2:
                raise typer.BadParameter(
                    f"{len(frame)} labelled claims in the database, with "
                    f"{int(frame['is_fraud'].sum()) if len(frame) else 0} confirmed frauds: "
                    "need at least 200 claims and both outcomes",
                    param_hint="--from-db",
                )
            features, label, time_column = ClaimFeatures(), "is_fraud", "report_date"
            description = {"source": "service database", "rows": len(frame)}
        elif data is None:
            frame = synth.generate(n, seed=seed)
            features, label, time_column = ClaimFeatures(), "is_fraud", "report_date"
            description = {"source": "generated", "rows": n, "seed": seed}
        else:
            frame = tabular.read_table(data)
            if label not in frame.columns:
                shown = ", ".join(map(str, frame.columns[:12]))
                raise ValueError(f"no column {label!r} in {data} (--label; its columns: {shown}, ...)")
            if time_column is not None and time_column not in frame.columns:
                raise ValueError(f"no column {time_column!r} in {data} (--time-column)")
            frame[label] = tabular.label_vector(frame[label])
            features = tabular.TableFeatures(label).assign(frame, _columns(drop), _columns(keep))
            time_column = time_column or tabular.pick_time_column(frame, features.roles)
            if time_column is not None:
                tabular.times(frame[time_column])  # a column that cannot order claims is refused here
                role = next(r.role for r in features.roles if r.column == time_column)
                if role in ("numeric", "categorical") and not time_as_feature:
                    features.set_aside(frame, time_column, "the time column: it splits, it is no feature")
            description = {"source": str(data), "rows": len(frame), "label": label}
        description["time_column"] = time_column or "none (random split)"
        result = train(frame, features, label, time_column, config, lambda s: bar.update(task, description=s))
        if register:
            bar.update(task, description="logging to MLflow")
            record = _registry(data_dir).log_training(result, description)
        bar.update(task, description="done")
    if data is not None and not from_db:
        dropped = [r for r in features.roles if r.role == "dropped"]
        for role in dropped:
            console.print(f"dropped column [bold]{role.column}[/bold]: {role.reason}")
        if time_column is None:
            console.print("[yellow]warning:[/yellow] no date column: holdout is a random split")
        undated = result.model.metadata.get("undated_rows", 0)
        if undated:
            console.print(f"{undated:,} rows with no {time_column}: fitted on, never in the holdout")
    _print_metrics(result)
    if register:
        console.print(
            f"registered fraud-risk version [bold]{record['version']}[/bold] (run {record['run_id']})"
        )


@app.command()
def promote(
    version: Annotated[str, typer.Argument(help="version number")],
    data_dir: DataDir = Path("data"),
    alias: Annotated[str, typer.Option(help="champion or challenger")] = "champion",
    force: Annotated[bool, typer.Option(help="skip the holdout comparison")] = False,
    reason: Annotated[str | None, typer.Option(help="why (required with --force)")] = None,
) -> None:
    """Make a version the champion only if it beats the champion on the same holdout (PR-AUC)."""
    if alias not in ("champion", "challenger"):
        console.print(f"[red]error:[/red] --alias is champion or challenger, not {alias!r}")
        raise typer.Exit(2)
    registry = _registry(data_dir)
    try:
        outcome = registry.promote(version, alias=alias, force=force, reason=reason)
    except registry.RegistryError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if outcome.candidate_pr_auc is not None:
        champion = f"{outcome.champion_pr_auc:.4f}" if outcome.champion_pr_auc is not None else "none"
        console.print(
            f"candidate v{outcome.version} PR-AUC {outcome.candidate_pr_auc:.4f}; "
            f"champion v{outcome.champion_version or '-'} {champion} (candidate's holdout)"
        )
    color = "green" if outcome.promoted else "red"
    console.print(f"[{color}]{outcome.message}[/{color}]")
    raise typer.Exit(0 if outcome.promoted else 1)


@app.command("list")
def list_cmd(data_dir: DataDir = Path("data")) -> None:
    """List registered versions, aliases and holdout metrics."""
    table = Table("version", "aliases", "mode", "ROC-AUC", "PR-AUC", "recall@10%", "created")
    for row in _registry(data_dir).versions():
        table.add_row(
            row["version"],
            ", ".join(row["aliases"]),
            row["mode"] or "",
            row["roc_auc"] or "",
            row["pr_auc"] or "",
            row["recall_at_10pct"] or "",
            row["created"],
        )
    console.print(table)


@app.command()
def score(
    facts: Annotated[Path, typer.Option("--facts", help="one claim as JSON")],
    data_dir: DataDir = Path("data"),
    ref: Annotated[str, typer.Option("--model", help="alias or version")] = "champion",
) -> None:
    """Score one claim and print its band and top factors."""
    from risk_models.features import FeatureError
    from risk_models.scorer import Scorer

    try:
        claim = json.loads(facts.read_text(encoding="utf-8"))
    except FileNotFoundError:
        _mistake(f"no file {facts}")
    except (UnicodeDecodeError, ValueError) as exc:
        _mistake(f"{facts} is not JSON: {exc}")
    if not isinstance(claim, dict):
        _mistake(f"{facts} must hold one claim as a JSON object")
    registry = _registry(data_dir)
    try:
        scorer = Scorer.from_registry(ref)
        result = scorer.score(claim)
    except registry.RegistryError as exc:
        _mistake(str(exc))
    except FeatureError as exc:
        _mistake(f"{exc.field}: {exc.message}")
    console.print(
        f"score {result.score:.4f}, band [bold]{result.band}[/bold] "
        f"({result.model_name} v{result.model_version})"
    )
    for factor in result.factors:
        console.print(f"  {factor.direction:6} {factor.contribution:+.4f}  {factor.feature} = {factor.value}")


@app.command("drift")
def drift_cmd(
    ctx: typer.Context,
    recent: Annotated[Path, typer.Option("--recent", help="recent claims: CSV/Parquet file, or db")],
    data_dir: DataDir = Path("data"),
    ref: Annotated[str, typer.Option("--model", help="alias or version")] = "champion",
    plot: Annotated[Path | None, typer.Option(help="write a PSI chart (PNG)")] = None,
) -> None:
    """Compare recent claims with the model's training population (PSI per feature)."""
    from risk_models import drift, tabular
    from risk_models.features import FeatureError

    registry = _registry(data_dir)
    try:
        model, version = registry.load(ref)
        frame = _history(ctx, "recent") if str(recent) == "db" else tabular.read_table(recent)
        report = drift_report(model, frame)
    except registry.RegistryError as exc:
        _mistake(str(exc))
    except FeatureError as exc:
        _mistake(f"the recent claims cannot be compared with this model: {exc.field}: {exc.message}")
    except ValueError as exc:
        _mistake(str(exc))
    table = Table("feature", "PSI", "")
    for row in report.itertuples():
        table.add_row(row.feature, f"{row.psi:.4f}", "[red]drifted[/red]" if row.drifted else "")
    console.print(f"fraud-risk v{version} vs {len(frame):,} recent claims")
    console.print(table)
    if plot is not None:
        console.print(f"chart: {drift.plot(report, plot)}")
    raise typer.Exit(1 if report["drifted"].any() else 0)


def _history(ctx: typer.Context, kind: str) -> pd.DataFrame:
    sources = ctx.find_object(Sources) or Sources()
    loader = getattr(sources, kind)
    if loader is None:
        raise typer.BadParameter("no service database is configured for this command")
    return loader()


def drift_report(model, frame: pd.DataFrame) -> pd.DataFrame:
    """Return PSI per feature and for the score for a table of recent claims."""
    from risk_models import drift

    features = model.feature_frame(frame)
    scores = model.calibrate(model.raw_scores(features))
    return drift.compare(model.metadata["reference"], features, scores)


__all__ = ["app"]
