"""The `claims` command: mounts the rules and model sub-commands."""

from __future__ import annotations

import typer

from risk_models.cli import app as model_app
from rules.cli import app as rules_app

app = typer.Typer(help="Claims adjudication and fraud-risk service.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(model_app, name="model")

if __name__ == "__main__":
    app()
