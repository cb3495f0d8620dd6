"""What every `claims` command shares: its consoles, one-line usage errors, the settings, and
the database or runtime opened so that a missing or unmigrated database is one line, exit 2."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from service.config import Settings

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def usage(message: str) -> NoReturn:
    """A mistake of the caller's: one line on stderr and exit 2, never a traceback."""
    err_console.print(f"[red]error:[/red] {message}", highlight=False)
    raise typer.Exit(2)


def settings() -> Settings:
    """The settings, or each problem with them in one line and exit 2."""
    from pydantic import ValidationError

    from service.config import explain, get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        for line in explain(exc):
            console.print(f"[red]configuration:[/red] {line}", markup=True, highlight=False)
        raise typer.Exit(2) from None


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Session]:
    """A unit of work on the configured database; one that cannot be opened or read (missing,
    not migrated, unreachable) is a usage error of one line, not a traceback."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from service.database import make_engine, session_factory

    url = settings.resolved_database_url
    engine = make_engine(url)
    try:
        with session_factory(engine)() as session:
            yield session
    except (OperationalError, ProgrammingError) as exc:
        where = make_url(url).render_as_string(hide_password=True)
        usage(f"cannot use the database {where}: {exc.orig} (set DATABASE_URL; run `claims db upgrade`)")
    finally:
        engine.dispose()


@contextlib.contextmanager
def runtime(settings: Settings) -> Iterator[Any]:
    """The service's runtime without its model, for a command; a database that cannot be used
    (missing, not migrated, unreachable) is a usage error of one line, not a traceback."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from service import runtime as runtime_module

    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        usage(
            f"no database at {url.removeprefix('sqlite:///')} (run `claims db upgrade` or `make run` first)"
        )
    try:
        rt = runtime_module.build(settings.model_copy(update={"load_model": False}))
    except (OperationalError, ProgrammingError) as exc:
        where = make_url(url).render_as_string(hide_password=True)
        usage(f"cannot use the database {where}: {exc.orig} (run `claims db upgrade`)")
    try:
        yield rt
    finally:
        rt.close()


def as_text(renderable: Any, width: int = 160) -> str:
    """What the console would print, as plain text for a file (`--format table --out F`)."""
    import io

    capture = Console(file=io.StringIO(), width=width, record=True, color_system=None)
    capture.print(renderable)
    return capture.export_text()
