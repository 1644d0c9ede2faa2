"""`duyet mail …`: the outbox — list it, retry a mail, deliver what is due."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table

from duyet.definition_files import definitions, mail_directories
from duyet.messages import CLI, MAIL_CLI, MAIL_KINDS, MAIL_STATUSES
from duyet.records_bridge import cli_actor, records_transaction
from duyet.settings import Settings, SettingsError, get_settings
from notifications.sender import DeliveryReport, DirectoryOf, run_sender, send_due
from records.engine import make_engine, session_factory
from records.migrate import ensure_schema
from records.models import Mail
from records.outbox import get_mail, mail_by_status, retry_mail

mail_app = typer.Typer(help=MAIL_CLI["help"], no_args_is_help=True)


class StatusFilter(StrEnum):
    PENDING = "pending"
    DEAD = "dead"
    SENT = "sent"
    ALL = "all"


@mail_app.command("outbox", help=MAIL_CLI["outbox.help"])
def outbox(
    status: Annotated[
        StatusFilter | None, typer.Option("--status", help=MAIL_CLI["status.help"])
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=MAIL_CLI["json.help"])] = False,
    limit: Annotated[int, typer.Option("--limit", help=MAIL_CLI["limit.help"])] = 200,
) -> None:
    settings = get_settings()
    if status is None:
        statuses: tuple[str, ...] = ("pending", "dead")
    elif status is StatusFilter.ALL:
        statuses = tuple(MAIL_STATUSES)
    else:
        statuses = (status.value,)
    with records_transaction(settings) as session:
        rows = [_row(mail) for mail in mail_by_status(session, statuses=statuses, limit=limit)]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    console = Console()
    if not rows:
        console.print(MAIL_CLI["empty"])
        return
    zone = ZoneInfo(settings.timezone)
    table = Table(title=MAIL_CLI["title"], title_justify="left")
    for key in ("id", "status", "kind", "to", "subject", "attempts", "next", "error"):
        table.add_column(MAIL_CLI[f"col.{key}"], overflow="fold", no_wrap=key == "id")
    for row in rows:
        due = row["next_attempt_at"] if row["status"] == "pending" else None
        table.add_row(
            str(row["id"]),
            MAIL_STATUSES.get(row["status"], row["status"]),
            MAIL_KINDS.get(row["kind"], row["kind"]),
            row["to"],
            row["subject"],
            str(row["attempts"]),
            _local(due, zone),
            row["last_error"] or "—",
        )
    console.print(table)


@mail_app.command("retry", help=MAIL_CLI["retry.help"])
def retry(mail_id: Annotated[int, typer.Argument(metavar="ID")]) -> None:
    settings = get_settings()
    with records_transaction(settings) as session:
        mail = get_mail(session, mail_id=mail_id)
        if mail.status == "sent":
            sent_at = _local(
                mail.sent_at.isoformat() if mail.sent_at else None, ZoneInfo(settings.timezone)
            )
            typer.echo(MAIL_CLI["already-sent"].format(mail_id=mail_id, sent_at=sent_at), err=True)
            raise typer.Exit(1)
        retry_mail(session, mail_id=mail_id, actor=cli_actor())
        kind, to = MAIL_KINDS.get(mail.kind, mail.kind), mail.to_addr
    typer.echo(MAIL_CLI["retried"].format(mail_id=mail_id, kind=kind, to=to))


@mail_app.command("send", help=MAIL_CLI["send.help"])
def send(
    once: Annotated[bool, typer.Option("--once", help=MAIL_CLI["once.help"])] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.1, help=MAIL_CLI["interval.help"])
    ] = 30.0,
) -> None:
    settings = get_settings()
    directory = mail_directories(definitions(settings))
    ensure_schema(settings.database_url)
    try:
        if once:
            report = send_due(settings, directory=directory)
            _print(report)
            if report.error:
                raise typer.Exit(1)
            return
        asyncio.run(_loop(settings, directory=directory, interval=interval))
    except SettingsError as error:
        typer.echo(f"{CLI['error']} {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(MAIL_CLI["stopped"])


async def _loop(settings: Settings, *, directory: DirectoryOf, interval: float) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    engine = make_engine(settings.database_url)
    try:
        await run_sender(
            session_factory(engine),
            settings,
            directory=directory,
            interval=interval,
            stop=stop,
            on_report=_print_if_busy,
        )
    finally:
        engine.dispose()


def _print_if_busy(report: DeliveryReport) -> None:
    if report.sent or report.failed or report.dead or report.error:
        _print(report)


def _print(report: DeliveryReport) -> None:
    typer.echo(MAIL_CLI["report"].format(sent=report.sent, failed=report.failed, dead=report.dead))
    if report.error:
        message = MAIL_CLI["unreachable"].format(server=report.server, error=report.error)
        typer.echo(message, err=True)


def _row(mail: Mail) -> dict[str, Any]:
    return {
        "id": mail.id,
        "status": mail.status,
        "kind": mail.kind,
        "to": mail.to_addr,
        "subject": mail.subject,
        "attempts": mail.attempts,
        "next_attempt_at": mail.next_attempt_at.isoformat(),
        "last_error": mail.last_error,
        "message_id": mail.message_id,
        "cycle_id": mail.cycle_id,
        "created_at": mail.created_at.isoformat(),
        "sent_at": mail.sent_at.isoformat() if mail.sent_at else None,
    }


def _local(moment: datetime | str | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(zone).strftime("%d/%m/%Y %H:%M")
