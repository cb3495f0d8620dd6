"""`claims keys ...`: API keys kept in the database, for people and systems, revocable on every host."""

from __future__ import annotations

from typing import Annotated

import typer

from service import cli_common as common

app = typer.Typer(help="API keys in the database (hashed; revocable).", no_args_is_help=True)


@app.command("create")
def create(
    name: Annotated[
        str, typer.Option(help="the person's name (as the assignment file names them) or the system's")
    ],
    role: Annotated[
        str, typer.Option(help="claims_system, specialist, senior_reviewer, investigator, analyst, ...")
    ],
) -> None:
    """Make a key for a name and role; it is printed once and only its hash is kept."""
    from service import keys

    settings = common.settings()
    with common.database(settings) as session:
        try:
            key, row = keys.create(session, name, role)
        except ValueError as exc:
            common.usage(str(exc))
        session.commit()
    common.console.print(f"key {row.id} for {row.name} ({row.role}): {key}", markup=False, highlight=False)
    common.console.print(
        f"shown once: keep it safe. Every service host takes it within {settings.keys_refresh_seconds:g} s."
    )


@app.command("list")
def list_keys() -> None:
    """Every key made (never the key itself): id, its first characters, name, role, created, revoked."""
    from service import keys

    with common.database(common.settings()) as session:
        rows = keys.listing(session)
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "live"
        created = f"{row.created_at:%Y-%m-%d %H:%M}"
        line = f"{row.id:>4}  {row.hint}…  {row.name:20} {row.role:16} created {created}  {state}"
        common.console.print(line, markup=False, highlight=False)
    if not rows:
        common.console.print("no keys in the database (CLAIMS_API_KEYS and the key file still work)")


@app.command("revoke")
def revoke(who: Annotated[str, typer.Argument(help="a key's id, or a name (all its live keys)")]) -> None:
    """Revoke keys: every host stops taking them within CLAIMS_KEYS_REFRESH_SECONDS."""
    from service import keys

    settings = common.settings()
    with common.database(settings) as session:
        rows = keys.revoke(session, who)
        if not rows:
            common.usage(f"no live key with id or name {who!r} (see `claims keys list`)")
        session.commit()
    common.console.print(f"revoked {len(rows)} key(s) of {', '.join(sorted({r.name for r in rows}))}")
