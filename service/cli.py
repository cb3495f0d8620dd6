"""The `claims` command: serve, database, policies, audit, demo; mounts `rules` and `model`."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

os.environ.setdefault("OMP_NUM_THREADS", "1")

import typer

from risk_models import cli as model_cli
from rules import cli as rules_cli
from service import cli_common as common
from service import intel_cli, keys_cli

if TYPE_CHECKING:
    from service.config import Settings

app = typer.Typer(help="Claims adjudication and fraud-risk service.", no_args_is_help=True)


def _version(asked: bool) -> None:
    if asked:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"claims-adjudication {version('claims-adjudication')}")
        except PackageNotFoundError:
            typer.echo("claims-adjudication (not installed as a package)")
        raise typer.Exit()


@app.callback()
def main(
    _: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    """Claims adjudication and fraud-risk service."""


def _labelled():
    from service.history import labelled_claims

    return labelled_claims()


def _recent():
    from service.history import recent_claims

    return recent_claims()


def _rule_facts(product: str):
    from service.history import rule_facts

    return rule_facts(product)


def _in_force(product: str):
    from service.history import rulebook_in_force

    return rulebook_in_force(product)


# The libraries' commands read the service's database only through what is handed to them here.
app.add_typer(
    rules_cli.app,
    name="rules",
    context_settings={"obj": rules_cli.Sources(history=_rule_facts, in_force=_in_force)},
)
app.add_typer(
    model_cli.app,
    name="model",
    context_settings={"obj": model_cli.Sources(labelled=_labelled, recent=_recent)},
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
policies_app = typer.Typer(help="Policies.", no_args_is_help=True)
audit_app = typer.Typer(help="Decision records.", no_args_is_help=True)
sla_app = typer.Typer(help="SLA clocks.", no_args_is_help=True)
users_app = typer.Typer(help="People, their roles and teams.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(policies_app, name="policies")
app.add_typer(audit_app, name="audit")
app.add_typer(sla_app, name="sla")
app.add_typer(users_app, name="users")
app.add_typer(intel_cli.app, name="intel")
app.add_typer(keys_cli.app, name="keys")
console, err_console = common.console, common.err_console
_usage, _settings, _database, _runtime = common.usage, common.settings, common.database, common.runtime


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision and the newest this release has."""
    from service.db import current

    settings = _settings()
    with _database(settings) as session:
        revision, head = current(session.get_bind())
    state = "at head" if revision == head else f"behind: run `claims db upgrade` to reach {head}"
    console.print(f"schema revision {revision or 'none (not migrated)'}; newest {head}: {state}")


@db_app.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="the revision to go back to (see `claims db current`)")],
    yes: Annotated[
        bool, typer.Option("--yes", help="confirm: a downgrade drops what later revisions added")
    ] = False,
) -> None:
    """Take the schema back to an earlier revision (after restoring a backup, or to roll back a release)."""
    from service.database import make_engine
    from service.db import current, downgrade, revisions

    settings = _settings()
    known = revisions()
    if revision not in known and revision != "base":
        _usage(f"no revision {revision!r} (revisions: {', '.join(known)}, or base)")
    if not yes:
        _usage("a downgrade drops the tables and columns later revisions added: repeat with --yes")
    engine = make_engine(settings.resolved_database_url)
    try:
        before, _ = current(engine)
        downgrade(engine, revision)
    finally:
        engine.dispose()
    console.print(f"schema revision {before} -> {revision}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to the configured database."""
    from service.database import make_engine
    from service.db import upgrade

    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    engine.dispose()
    console.print(f"database at head: {engine.url.render_as_string(hide_password=True)}")
    # Claims stored before the queues kept SLA dates get theirs now (and a no-op otherwise).
    changed = _refresh_sla(settings)
    if changed:
        console.print(f"SLA dates written for {changed} open claims")


def _refresh_sla(settings: Settings) -> int:
    from service.adjudication import due
    from service.database import unit_of_work

    with _runtime(settings) as rt, contextlib.contextmanager(unit_of_work)(rt.sessions) as session:
        return due.refresh(session, rt)


@sla_app.command("refresh")
def sla_refresh() -> None:
    """Recompute every open claim's next SLA due date and breached day (after a calendar change)."""
    changed = _refresh_sla(_settings())
    console.print(f"SLA dates changed on {changed} open claims")


@users_app.command("list")
def users_list() -> None:
    """Everyone with a key, their role and their teams; team members without a key are named."""
    from service.security import load_key_file, parse_env_keys

    settings = _settings()
    known = {*load_key_file(settings.keys_file).values(), *parse_env_keys(settings.api_keys).values()}
    policy = settings.assignment
    for person in sorted(known, key=lambda p: (p.name, p.role)):
        teams = ", ".join(policy.teams_of(person.name)) or "-"
        console.print(f"{person.name:20} {person.role:16} {teams}", markup=False, highlight=False)
    names = {p.name for p in known}
    for team, spec in policy.policy.teams.items():
        for member in spec.members:
            if member not in names:
                console.print(f"[yellow]{member} is a member of {team} but has no key[/yellow]")


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="the person's name, as the assignment file names them")],
    role: Annotated[str, typer.Argument(help="one role: specialist, senior_reviewer, investigator, ...")],
) -> None:
    """Give a person an API key of a role (printed once; the key file keeps only its hash).

    Teams are declared in the assignment file (CLAIMS_ASSIGNMENT_FILE); add the name there.
    """
    from service.security import add_key

    settings = _settings()
    try:
        key = add_key(settings.keys_file, name, role)
    except ValueError as exc:
        _usage(str(exc))
    console.print(f"{name} ({role}): {key}", markup=False, highlight=False)
    console.print(f"kept as a hash in {settings.keys_file}; a running service reads it at start-up")


@policies_app.command("import")
def policies_import(
    file: Annotated[
        Path, typer.Argument(help="CSV with PolicyIn columns", exists=True, dir_okay=False, readable=True)
    ],
) -> None:
    """Load policies from a CSV file: every row or none."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from service.database import make_engine, session_factory
    from service.errors import DomainError
    from service.policies import service

    engine = make_engine(_settings().resolved_database_url)
    try:
        try:
            rows = service.parse_csv(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            _usage(f"{file} is not UTF-8 text: {exc.reason}")
        columns = (TextColumn("importing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("policies", total=len(rows))
            with session_factory(engine).begin() as session:
                service.import_all(session, rows, lambda n: bar.advance(task, n))
    except DomainError as exc:
        console.print(f"[red]{exc.detail}[/red]")
        for error in exc.extra.get("errors", []):
            console.print(f"  {error['field']}: {error['message']}", markup=False)
        raise typer.Exit(1) from None
    console.print(f"imported {len(rows)} policies")


@audit_app.command("verify")
def audit_verify(
    checkpoints: Annotated[
        list[Path] | None,
        typer.Option("--checkpoint", help="a checkpoint file kept outside the database (repeatable)"),
    ] = None,
) -> None:
    """Prove every claim's chain of decision records unbroken and its balances reconciled (exit 1 if not)."""
    from service import audit
    from service import checkpoints as anchors
    from service.claims.balances import reconcile

    settings = _settings()
    key = settings.audit_secret
    saved = []
    for file in checkpoints or []:
        try:
            saved.append((file, json.loads(file.read_text(encoding="utf-8"))))
        except OSError as exc:
            _usage(f"cannot read checkpoint {file}: {exc.strerror or exc}")
        except ValueError as exc:  # not JSON, or not text
            _usage(f"checkpoint {file} is not a JSON checkpoint file ({exc})")
    with _database(settings) as session:
        count, broken = audit.verify(session, key)
        for file, checkpoint in saved:
            try:
                broken += anchors.check(session, checkpoint, key)
            except anchors.Unreadable as exc:
                _usage(f"checkpoint {file}: {exc}")
        unbalanced = reconcile(session)
    for item in broken:
        console.print(f"[red]✗ {item.claim_number} record {item.seq}: {item.problem}[/red]")
    for problem in unbalanced:
        console.print(f"[red]✗ {problem}[/red]")
    if broken or unbalanced:
        console.print(
            f"[red]{len(broken)} problem(s) in {count} records, {len(unbalanced)} in the balances[/red]"
        )
        raise typer.Exit(1)
    sealed = "every head's seal checked" if key else "seals not checked: set CLAIMS_AUDIT_KEY to check them"
    anchored = f", agreeing with {len(saved)} checkpoint(s)" if saved else ""
    console.print(
        f"[green]✓ {count} decision records verified, every chain unbroken ({sealed}){anchored}; reserves, "
        "payments and policy exposure reconciled[/green]"
    )


@audit_app.command("checkpoint")
def audit_checkpoint(
    out: Annotated[
        Path | None, typer.Option(help="write the checkpoint to this file (default: print it)")
    ] = None,
) -> None:
    """Write every chain head, signed with CLAIMS_AUDIT_KEY, for a second system to keep."""
    from service import checkpoints as anchors

    settings = _settings()
    key = settings.audit_secret
    with _database(settings) as session:
        taken = anchors.take(session, key)
    text = json.dumps(taken, indent=1, sort_keys=True)
    if out is None:
        print(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        _usage(f"cannot write {out}: {exc.strerror or exc}")
    signed = "signed" if key else "unsigned: set CLAIMS_AUDIT_KEY to sign it"
    heads, records = taken["claims"], taken["records"]
    err_console.print(f"✓ checkpoint of {heads} chain heads ({records} records, {signed}) → {out}")


@audit_app.command("seal")
def audit_seal() -> None:
    """Seal the head of every chain not sealed yet with CLAIMS_AUDIT_KEY (after verifying them all)."""
    from service import audit

    settings = _settings()
    if settings.audit_key is None:
        _usage("CLAIMS_AUDIT_KEY is not set: nothing to seal with")
    with _database(settings) as session:
        try:
            count = audit.seal(session, settings.audit_secret)
        except ValueError as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
        session.commit()
    console.print(f"[green]✓ sealed {count} chain heads[/green]")


@app.command()
def report(
    kind: Annotated[str, typer.Argument(help="sla, kpis, service-quality or fraud")],
    start: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD (kpis, service-quality)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD (kpis, service-quality)")] = None,
    by: Annotated[str, typer.Option(help="service-quality: team, person or line")] = "team",
    fmt: Annotated[str, typer.Option("--format", help="table, csv, json or html")] = "table",
    out: Annotated[Path | None, typer.Option(help="write to a file instead of the terminal")] = None,
) -> None:
    """Print the SLA, KPI, service-quality or (for the regulator) fraud report."""
    import datetime as dt

    from service.deps import period
    from service.errors import DomainError
    from service.reports import render
    from service.reports import service as reports

    if out is not None and not out.parent.is_dir():
        _usage(f"cannot write {out}: no folder {out.parent}")
    if kind not in ("sla", "kpis", "service-quality", "fraud") or fmt not in ("table", "csv", "json", "html"):
        _usage("claims report sla|kpis|service-quality|fraud --format table|csv|json|html")
    if by not in ("team", "person", "line"):
        _usage(f"--by is team, person or line, not {by!r}")
    with _runtime(_settings()) as rt, rt.readers() as session:
        if kind == "sla":
            data = reports.sla_report(session, rt)
        else:
            today = dt.datetime.now(rt.settings.zone).date()  # the service's day, where its reports count
            try:
                first = dt.date.fromisoformat(start) if start else today.replace(day=1)
                last = dt.date.fromisoformat(end) if end else today
            except ValueError as exc:
                _usage(f"--from and --to are dates (YYYY-MM-DD): {exc}")
            try:
                period(first, last)
            except DomainError as exc:
                _usage(f"--from/--to: {exc.detail}")
            if kind == "kpis":
                data = reports.kpis(session, rt, first, last)
            elif kind == "fraud":
                from service.reports import fraud

                data = fraud.fraud_summary(session, rt, first, last)
            else:
                from service.reports import quality

                data = quality.service_quality(session, rt, first, last, by)
    if fmt == "table" and out is None:
        console.print(render.as_table(kind, data))
        return
    text = {
        "table": lambda: common.as_text(render.as_table(kind, data)),
        "csv": lambda: render.as_csv(kind, data),
        "json": lambda: render.as_json(data),
        "html": lambda: render.as_html(kind, data),
    }[fmt]()
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")


@app.command()
def prepare(
    n: Annotated[int, typer.Option(help="claims to train the first model on")] = 50_000,
) -> None:
    """Migrate, train a first model if no champion exists, seed demo policies and API keys."""
    from service import prepare as first_run

    first_run.prepare(_settings(), console, n)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="bind address")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
    keep_alive: Annotated[int, typer.Option(help="seconds an idle connection stays open")] = 30,
) -> None:
    """Start the HTTP service."""
    import sys

    _settings()  # refuse bad configuration here, in one message, not in every worker's start-up
    # A fresh interpreter whose main module is small: the workers re-import it (see service.serve).
    command = ["-m", "service.serve", "--host", host, "--port", str(port), "--workers", str(workers)]
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, *command, "--keep-alive", str(keep_alive)])


@app.command()
def worker(
    once: Annotated[bool, typer.Option(help="run what is due now, then stop")] = False,
    interval: Annotated[float, typer.Option(help="seconds between rounds when idle")] = 1.0,
) -> None:
    """Run timed jobs (reminders, lapses, surveys) and deliver customer messages."""
    import signal
    import threading

    from service.outbox import worker as loop

    with _runtime(_settings()) as rt:
        if once:
            (opened, escalated), jobs, sent = loop.sweep(rt), loop.run_jobs(rt), loop.deliver(rt)
            console.print(
                f"{jobs} jobs run, {sent} messages delivered (failures are kept on each message), "
                f"{opened} rectification items opened for SLA breaches, {escalated} overdue escalated"
            )
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        console.print("worker running (Ctrl-C or SIGTERM stops it)")
        try:
            loop.run(rt, stop, interval)
        except KeyboardInterrupt:
            stop.set()


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="the running service")] = "http://127.0.0.1:8000",
    keys: Annotated[Path | None, typer.Option(help="demo keys file")] = None,
) -> None:
    """Walk simple, complex, major, denied and high-risk claims, then the money controls, over HTTP."""
    import httpx

    from service import demo as walk

    path = keys or _settings().data_dir / "demo_keys.json"
    if not path.exists():
        _usage(f"no demo keys at {path} (run `make run` or `claims prepare` first)")
    try:
        walk.run(url, json.loads(path.read_text(encoding="utf-8")), console)
    except httpx.TransportError as exc:
        _usage(f"cannot reach the service at {url}: {exc} (start it with `make run`)")


if __name__ == "__main__":
    app()
