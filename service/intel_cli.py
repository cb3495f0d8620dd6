"""`claims intel ...`: share confirmed frauds' indicators with other insurers, as keyed hashes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from service import cli_common as common

app = typer.Typer(help="Fraud indicators shared with other insurers (keyed hashes).", no_args_is_help=True)


def _key(settings) -> bytes:
    if settings.intel_key is None:
        common.usage("set CLAIMS_INTEL_KEY, the key the insurers sharing indicators agreed on")
    return settings.intel_key.get_secret_value().encode()


@app.command("export")
def export(
    out: Annotated[Path, typer.Option(help="the file to write (claims-intel/1 JSON)")],
    since: Annotated[str | None, typer.Option(help="only claims reported since YYYY-MM-DD")] = None,
) -> None:
    """Write the indicators of every claim an investigation confirmed as fraud: no raw values."""
    from service import intel

    settings = common.settings()
    key = _key(settings)
    if not out.parent.is_dir():
        common.usage(f"cannot write {out}: no folder {out.parent}")
    try:
        day = dt.date.fromisoformat(since) if since else None
    except ValueError:
        common.usage(f"--since is a date (YYYY-MM-DD), not {since!r}")
    with common.database(settings) as session:
        document = intel.export(session, key, settings.intel_issuer, day)
    out.write_text(json.dumps(document, indent=1), encoding="utf-8")
    common.console.print(
        f"wrote {len(document['indicators'])} indicators to {out} (issuer {document['issuer']})"
    )


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="a claims-intel/1 file another insurer shared")],
) -> None:
    """Store another insurer's indicators: claims matching one are referred to investigation."""
    from service import intel

    settings = common.settings()
    _key(settings)  # without the shared key no claim could ever match: say so now
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        common.usage(f"no file {path}")
    except (UnicodeDecodeError, ValueError) as exc:
        common.usage(f"{path} is not JSON: {exc}")
    with common.database(settings) as session:
        try:
            new, known = intel.import_document(session, document)
        except ValueError as exc:
            common.usage(f"{path}: {exc}")
        session.commit()
    common.console.print(f"imported {new} indicators from {document['issuer']} ({known} already known)")
