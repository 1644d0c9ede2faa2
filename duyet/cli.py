"""The `duyet` command line: one Typer app with a sub-app per concern."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable

import typer
from sqlalchemy.exc import OperationalError

from duyet.console import say_error
from duyet.messages import CLI
from duyet.settings import get_settings
from records.engine import display_url
from records.errors import RecordError

# Each command's module and what it holds: a sub-app, or one command. A call imports only its
# own (WeasyPrint, pyHanko, openpyxl and Prefect's client are not what every command needs).
COMMANDS: dict[str, tuple[str, str]] = {
    "plan": ("duyet.cli_plan", "plan_app"),
    "db": ("duyet.cli_db", "db_app"),
    "audit": ("duyet.cli_audit", "audit_app"),
    "mail": ("duyet.cli_mail", "mail_app"),
    "user": ("duyet.cli_user", "user_app"),
    "calendar": ("duyet.cli_calendar", "calendar_app"),
    "keys": ("duyet.cli_keys", "keys_app"),
    "verify": ("duyet.cli_keys", "verify_command"),
    "report": ("duyet.cli_report", "report_command"),
    "demo": ("duyet.cli_demo", "demo"),
    "deploy": ("duyet.cli_cycles", "deploy"),
    "start": ("duyet.cli_cycles", "start"),
    "status": ("duyet.cli_cycles", "status"),
    "cancel": ("duyet.cli_cycles", "cancel"),
    "up": ("duyet.cli_up", "up_command"),
}


def build(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The command line with the commands `names` (default: all)."""
    app = typer.Typer(
        name="duyet",
        help="duyet — review and approval cycles for a department's administrative plan.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.callback()(_group)  # commands by name, even when only one is built
    for name in names:
        module, attribute = COMMANDS[name]
        found = getattr(importlib.import_module(module), attribute)
        if isinstance(found, typer.Typer):
            app.add_typer(found, name=name)
        else:
            app.command(name)(found)
    return app


def _group() -> None:
    pass


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the whole command line, for tests and tools that drive it
        return build()
    raise AttributeError(name)


def main() -> None:
    """Entry point: known failures end with a plain Vietnamese message, never a traceback."""
    asked = sys.argv[1] if len(sys.argv) > 1 else ""
    app = build([asked] if asked in COMMANDS else COMMANDS)
    try:
        app(standalone_mode=True)
    except RecordError as exc:
        say_error(exc.message)
        sys.exit(2)
    except OperationalError:
        url = display_url(get_settings().database_url)
        say_error(CLI["database-unreachable"].format(url=url))
        sys.exit(2)


if __name__ == "__main__":  # `python -m duyet.cli …`, as the stack's children are started
    main()
