"""`duyet user add|list|disable`: portal accounts (Office staff, auditors, administrators)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from duyet.messages import USER_CLI as M
from duyet.records_bridge import cli_actor, records_transaction
from duyet.settings import get_settings
from portal.passwords import MIN_LENGTH, hash_password
from records.users import add_user, list_users, set_disabled

user_app = typer.Typer(help=M["help"], no_args_is_help=True)


class Role(StrEnum):
    OFFICE = "office"
    AUDITOR = "auditor"
    ADMIN = "admin"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt(M["password"], hide_input=True)
    if typer.prompt(M["password-again"], hide_input=True) != first:
        typer.echo(M["mismatch"], err=True)
        raise typer.Exit(2)
    return str(first)


@user_app.command("add", help=M["add.help"])
def add(
    username: Annotated[str, typer.Argument(metavar="USERNAME")],
    role: Annotated[Role, typer.Option("--role", help=M["role.help"])],
    name: Annotated[str | None, typer.Option("--name", help=M["name.help"])] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help=M["stdin.help"])] = False,
) -> None:
    password = _password(password_stdin)
    if len(password) < MIN_LENGTH:
        typer.echo(M["too-short"].format(min=MIN_LENGTH), err=True)
        raise typer.Exit(2)
    with records_transaction(get_settings()) as session:
        user = add_user(
            session,
            username=username,
            display_name=name or username,
            role=role.value,
            password_hash=hash_password(password),
            actor=cli_actor(),
        )
        typer.echo(M["added"].format(username=user.username, role=user.role))


@user_app.command("list", help=M["list.help"])
def list_(as_json: Annotated[bool, typer.Option("--json", help=M["json.help"])] = False) -> None:
    with records_transaction(get_settings()) as session:
        users: list[dict[str, Any]] = [
            {
                "username": u.username,
                "display_name": u.display_name,
                "role": u.role,
                "disabled": u.disabled,
                "created_at": u.created_at.isoformat(),
            }
            for u in list_users(session)
        ]
    if as_json:
        sys.stdout.write(json.dumps({"users": users}, ensure_ascii=False, indent=2) + "\n")
        return
    if not users:
        typer.echo(M["none"])
        return
    table = Table()
    for header in M["columns"].split("|"):
        table.add_column(header)
    for u in users:
        state = M["locked"] if u["disabled"] else M["active"]
        created = str(u["created_at"])[:10]
        table.add_row(str(u["username"]), str(u["display_name"]), str(u["role"]), state, created)
    Console().print(table)


@user_app.command("disable", help=M["disable.help"])
def disable(username: Annotated[str, typer.Argument(metavar="USERNAME")]) -> None:
    with records_transaction(get_settings()) as session:
        user = set_disabled(session, username=username, disabled=True, actor=cli_actor())
        typer.echo(M["disabled"].format(username=user.username))
