"""The `duyet` command line: one Typer app with a sub-app per concern."""

from __future__ import annotations

import typer

from duyet.cli_plan import plan_app

app = typer.Typer(
    name="duyet",
    help="duyet — review and approval cycles for a department's administrative plan.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(plan_app, name="plan")
