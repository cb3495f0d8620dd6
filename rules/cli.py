"""`claims rules ...`: validate, test, explain and compile rulebooks."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

# The engine, pydantic's schemas and pandas load inside the commands: `--help` answers at once.
if TYPE_CHECKING:
    import pandas as pd

    from rules import rulebook as rb
    from rules.outcome import Adjudication

app = typer.Typer(help="Validate, test and explain rulebooks.", no_args_is_help=True)


@dataclass(frozen=True)
class Sources:
    """What `backtest --claims db` reads, given by an application that owns a claims database
    (this library never imports one): `app.add_typer(app, context_settings={"obj": Sources(…)})`.
    """

    history: Callable[[str], pd.DataFrame] | None = None  # product -> table of rule facts
    in_force: Callable[[str], rb.Rulebook] | None = None  # product -> the version in force there


console = Console(soft_wrap=True)


def _resolve(name_or_path: str) -> Path:
    """Accept a file path or the name of a shipped rulebook (motor, health, property)."""
    from rules import rulebook as rb

    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = rb.RULEBOOK_DIR / f"{name_or_path}.yaml"
    if shipped.exists():
        return shipped
    raise typer.BadParameter(f"no rulebook file or shipped rulebook named {name_or_path!r}")


@app.command("list")
def list_rulebooks() -> None:
    """List the shipped rulebooks."""
    from rules import rulebook as rb

    table = Table("name", "version", "effective from", "rules", "documents", "sha256")
    for book in rb.load_shipped().values():
        table.add_row(
            book.name,
            book.version,
            str(book.spec.effective_from),
            str(len(book.rules)),
            str(len(book.documents)),
            book.sha256[:16],
        )
    console.print(table)


@app.command()
def validate(files: Annotated[list[str], typer.Argument(help="rulebook files or names")]) -> None:
    """Report every problem in each rulebook, with file, line and column."""
    from rules import rulebook as rb

    bad = 0
    for name in files:
        path = _resolve(name)
        found = rb.problems(path)
        if found:
            bad += 1
            console.print(f"[red]✗ {path}: {len(found)} problem(s)[/red]")
            for problem in found:
                console.print(f"  {problem}", markup=False, highlight=False)
        else:
            book = rb.load(path)
            console.print(
                f"[green]✓ {path}[/green]: {book.name} {book.version}, {len(book.rules)} rules, "
                f"{len(book.documents)} documents, sha256 {book.sha256[:16]}"
            )
            for warning in book.warnings:
                console.print(f"  [yellow]warning[/yellow] {warning}", highlight=False)
    raise typer.Exit(1 if bad else 0)


@app.command()
def test(
    files: Annotated[
        list[str] | None, typer.Argument(help="rulebooks or test tables (default: all shipped)")
    ] = None,
) -> None:
    """Run the test tables beside the rulebooks and report each case."""
    from rules import rulebook as rb
    from rules.testing import run_table, table_path

    paths = [_resolve(f) for f in files] if files else rb.shipped()
    failed = 0
    for path in paths:
        table_file = path if path.name.endswith(".tests.yaml") else table_path(path)
        result = run_table(table_file)
        passed = sum(c.passed for c in result.cases)
        mark = "[green]✓[/green]" if result.passed else "[red]✗[/red]"
        console.print(f"{mark} {table_file.name}: {passed}/{len(result.cases)} cases passed")
        for case in result.cases:
            if not case.passed:
                console.print(f"  [red]✗ {case.name}[/red]")
                for failure in case.failures:
                    console.print(f"      {failure}", markup=False, highlight=False)
        if result.unfired:
            console.print(f"  [red]rules no case fires: {', '.join(result.unfired)}[/red]")
        failed += not result.passed
    raise typer.Exit(1 if failed else 0)


def print_adjudication(result: Adjudication) -> None:
    """Print an adjudication with its reasons as a readable report."""
    console.print(
        f"[bold]{result.rulebook} {result.rulebook_version}[/bold] "
        f"(sha256 {result.rulebook_sha256[:16]})\n"
        f"coverage [bold]{result.coverage}[/bold], payable [bold]{result.payable_amount}[/bold] "
        f"(ratio {result.coverage_ratio}), route [bold]{result.route}[/bold], "
        f"investigate {result.investigate}, review {result.review}"
    )
    if result.missing_documents:
        console.print(f"missing documents: {', '.join(result.missing_documents)}")
    for reason in result.reasons:
        effect = ", ".join(f"{k}={v}" for k, v in reason.effect.items())
        console.print(
            f"[bold]● {reason.code}[/bold] {reason.rule_id} ({reason.category}) {effect}",
            highlight=False,
        )
        if reason.facts:
            facts = ", ".join(f"{k}={v}" for k, v in reason.facts.items())
            console.print(f"    facts: {facts}", markup=False, highlight=False)
        for label, text in (*reason.customer.items(), ("internal", reason.internal)):
            console.print(f"    {label}: {text}", markup=False, highlight=False)


@app.command()
def explain(
    file: Annotated[str, typer.Argument(help="rulebook file or name")],
    facts: Annotated[
        Path, typer.Option("--facts", help="claim facts as JSON", exists=True, dir_okay=False, readable=True)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Evaluate one claim's facts and print the adjudication with its reasons."""
    from rules import rulebook as rb
    from rules.engine import RulesEngine
    from rules.facts import InvalidFacts

    book = rb.load(_resolve(file))
    try:
        raw = json.loads(facts.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        console.print(f"[red]error:[/red] {facts} is not JSON: {exc}", highlight=False)
        raise typer.Exit(2) from None
    with RulesEngine(book) as engine:
        try:
            result = engine.evaluate(raw)
        except InvalidFacts as exc:
            for problem in exc.problems:
                console.print(f"[red]{problem.field}[/red]: {problem.message}")
            raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_adjudication(result)


@app.command("compile")
def compile_cmd(file: Annotated[str, typer.Argument(help="rulebook file or name")]) -> None:
    """Print the durable-rules ruleset a rulebook compiles to."""
    from rules import rulebook as rb
    from rules.engine import compile_rulebook

    book = rb.load(_resolve(file))
    typer.echo(json.dumps(compile_rulebook(book), ensure_ascii=False, indent=2))


def _history(sources: Sources, source: str, product: str) -> pd.DataFrame:
    import pandas as pd

    if source == "db":
        loader = sources.history
        if loader is None:
            raise typer.BadParameter("no service database is configured", param_hint="--claims")
        return loader(product)
    path = Path(source)
    if not path.exists():
        raise typer.BadParameter(f"no file {source}", param_hint="--claims")
    return (
        pd.read_parquet(path)
        if path.suffix == ".parquet"
        else pd.read_csv(path, keep_default_na=False, na_values=[""])
    )


@app.command()
def backtest(
    ctx: typer.Context,
    candidate: Annotated[str, typer.Option(help="the candidate rulebook file")],
    claims: Annotated[str, typer.Option(help="db, or a Parquet/CSV file of claim facts")],
    baseline: Annotated[
        str,
        typer.Option(
            help="'active' (with --claims db the version in force in the service, else the shipped file) "
            "or a rulebook file"
        ),
    ] = "active",
    out: Annotated[Path, typer.Option(help="HTML report; JSON is written beside it")] = Path("backtest.html"),
) -> None:
    """Evaluate both versions on every historical claim and report what would change."""
    from rules import rulebook as rb
    from rules.backtest import backtest as run
    from rules.backtest import to_html, to_json

    sources = ctx.find_object(Sources) or Sources()
    new = rb.load(_resolve(candidate))
    if baseline != "active":
        old, origin = rb.load(_resolve(baseline)), baseline
    elif claims == "db" and (in_force := sources.in_force) is not None:
        old, origin = in_force(new.name), "the version in force in the service"
    else:
        old, origin = rb.load(rb.RULEBOOK_DIR / f"{new.name}.yaml"), "the shipped file"
    console.print(f"baseline: {old.name} {old.version} ({origin}); candidate: {new.name} {new.version}")
    if old.name != new.name:
        raise typer.BadParameter(f"baseline is {old.name}, candidate is {new.name}", param_hint="--baseline")
    with console.status("loading claims"):
        history = _history(sources, claims, new.name)
    start = time.perf_counter()
    report = run(old, new, history)
    elapsed = time.perf_counter() - start
    out.write_text(to_html(report), encoding="utf-8")
    out.with_suffix(".json").write_text(to_json(report), encoding="utf-8")
    changed, scope = report["changed"], report["scope"]
    if not scope["product_column"]:
        console.print(f"no product column: every row taken as a {new.name} claim")
    elif scope["set_aside"]:
        aside = ", ".join(f"{k} {v:,}" for k, v in scope["set_aside"].items())
        console.print(f"set aside {sum(scope['set_aside'].values()):,} rows of other lines ({aside})")
    for fact in report["missing_facts"]:
        console.print(f"[yellow]input lacks {fact['fact']}[/yellow]: {fact['treated_as']}", highlight=False)
    console.print(
        f"{report['claims']:,} {new.name} claims in {elapsed:.1f} s: {changed['any']:,} change (coverage "
        f"{changed['coverage']:,}, route {changed['route']:,}, amount {changed['payable_amount']:,}, "
        f"investigation {changed['investigate']:,}); payable delta {report['payable_total']['delta']}"
    )
    for kind in ("route_transitions", "coverage_transitions"):
        moves = {f"{a}→{b}": n for a, row in report[kind].items() for b, n in row.items() if a != b}
        if moves:
            console.print(f"{kind.replace('_', ' ')}: " + ", ".join(f"{k} {v:,}" for k, v in moves.items()))
    if report["never_fire"]["candidate"]:
        console.print(f"never fire in the candidate: {', '.join(report['never_fire']['candidate'])}")
    console.print(f"report: {out} and {out.with_suffix('.json')}")
