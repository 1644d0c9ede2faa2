"""`duyet db …`: migrate the records database."""

from __future__ import annotations

from typing import Annotated

import typer

from duyet.messages import DB_MESSAGES
from duyet.settings import get_settings
from records import migrate
from records.engine import display_url

db_app = typer.Typer(help=DB_MESSAGES["help"], no_args_is_help=True)


@db_app.command("upgrade", help=DB_MESSAGES["upgrade.help"])
def upgrade(
    revision: Annotated[str, typer.Argument(help=DB_MESSAGES["revision.help"])] = "head",
) -> None:
    url = get_settings().database_url
    now = migrate.upgrade(url, revision)
    typer.echo(DB_MESSAGES["upgraded"].format(url=display_url(url), revision=_name(now)))


@db_app.command("downgrade", help=DB_MESSAGES["downgrade.help"])
def downgrade(
    revision: Annotated[str, typer.Argument(help=DB_MESSAGES["revision.help"])] = "-1",
) -> None:
    url = get_settings().database_url
    now = migrate.downgrade(url, revision)
    typer.echo(DB_MESSAGES["downgraded"].format(url=display_url(url), revision=_name(now)))


@db_app.command("current", help=DB_MESSAGES["current.help"])
def current() -> None:
    url = get_settings().database_url
    revision = _name(migrate.current(url))
    typer.echo(DB_MESSAGES["current"].format(url=display_url(url), revision=revision))


def _name(revision: str | None) -> str:
    return revision or DB_MESSAGES["empty"]
