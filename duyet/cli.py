"""The `duyet` command line: one Typer app with a sub-app per concern."""

from __future__ import annotations

import sys

import typer
from sqlalchemy.exc import OperationalError

from duyet import cli_cycles
from duyet.cli_audit import audit_app
from duyet.cli_calendar import calendar_app
from duyet.cli_db import db_app
from duyet.cli_demo import demo
from duyet.cli_keys import keys_app, verify_command
from duyet.cli_mail import mail_app
from duyet.cli_plan import plan_app
from duyet.cli_report import report_command
from duyet.cli_up import up_command
from duyet.cli_user import user_app
from duyet.console import say_error
from duyet.messages import CLI
from duyet.settings import get_settings
from records.engine import display_url
from records.errors import RecordError

app = typer.Typer(
    name="duyet",
    help="duyet — review and approval cycles for a department's administrative plan.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(plan_app, name="plan")
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(mail_app, name="mail")
app.add_typer(user_app, name="user")
app.add_typer(calendar_app, name="calendar")
app.add_typer(keys_app, name="keys")
app.command("verify")(verify_command)
app.command("report")(report_command)
app.command("demo")(demo)
app.command("deploy")(cli_cycles.deploy)
app.command("start")(cli_cycles.start)
app.command("status")(cli_cycles.status)
app.command("cancel")(cli_cycles.cancel)
app.command("up")(up_command)


def main() -> None:
    """Entry point: known failures end with a plain Vietnamese message, never a traceback."""
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
