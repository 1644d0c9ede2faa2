"""`duyet audit …`: verify the audit chain, export it for auditors, show a line's history."""

from __future__ import annotations

import asyncio
import io
import sys
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import httpx
import typer
from prefect.exceptions import PrefectHTTPStatusError
from prefect.settings import PREFECT_API_URL
from rich.console import Console
from rich.table import Table

from duyet.messages import (
    AUDIT_ACTIONS,
    AUDIT_BREAKS,
    AUDIT_MESSAGES,
    TIMELINE_COLUMNS,
)
from duyet.records_bridge import records_transaction
from duyet.settings import get_settings
from records import audit
from records.trail import describe, trail, write_csv, write_json, write_xlsx
from tasks.anchors import published_anchors

audit_app = typer.Typer(help=AUDIT_MESSAGES["help"], no_args_is_help=True)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


@audit_app.command("verify", help=AUDIT_MESSAGES["verify.help"])
def verify(
    expect_head: Annotated[
        str | None, typer.Option("--expect-head", help=AUDIT_MESSAGES["expect-head.help"])
    ] = None,
    with_anchors: Annotated[
        bool, typer.Option("--anchors/--no-anchors", help=AUDIT_MESSAGES["anchors.help"])
    ] = True,
) -> None:
    anchors = _published_anchors() if with_anchors and PREFECT_API_URL.value() else []
    with records_transaction(get_settings()) as session:
        report = audit.verify(session, expect_head=expect_head, anchors=anchors)
    if report.broken is not None:
        reason = AUDIT_BREAKS[report.broken.reason].format(**report.broken.params)
        typer.echo(AUDIT_MESSAGES["broken"].format(seq=report.broken.seq, reason=reason))
        raise typer.Exit(1)
    typer.echo(AUDIT_MESSAGES["intact"].format(count=report.entries))
    if report.head is not None:
        typer.echo(AUDIT_MESSAGES["head"].format(hash=report.head))


def _published_anchors() -> list[audit.Anchor]:
    """The anchors the sweeper published on the Prefect server, said aloud; none if unreachable."""
    try:
        anchors = asyncio.run(published_anchors(timezone=get_settings().timezone))
    except (httpx.HTTPError, PrefectHTTPStatusError, OSError) as error:
        typer.echo(AUDIT_MESSAGES["anchors-unavailable"].format(error=type(error).__name__))
        return []
    if not anchors:
        typer.echo(AUDIT_MESSAGES["no-anchors"])
    else:
        newest = anchors[0]
        typer.echo(
            AUDIT_MESSAGES["anchors"].format(count=len(anchors), seq=newest.seq, at=newest.at)
        )
    return anchors


@audit_app.command("export", help=AUDIT_MESSAGES["export.help"])
def export(
    format: Annotated[ExportFormat, typer.Option("--format", help=AUDIT_MESSAGES["format.help"])],
    line: Annotated[str | None, typer.Option("--line", help=AUDIT_MESSAGES["line.help"])] = None,
    plan: Annotated[str | None, typer.Option("--plan", help=AUDIT_MESSAGES["plan.help"])] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help=AUDIT_MESSAGES["output.help"])
    ] = None,
) -> None:
    if format is ExportFormat.XLSX and output is None:
        typer.echo(AUDIT_MESSAGES["xlsx-needs-output"], err=True)
        raise typer.Exit(2)
    with records_transaction(get_settings()) as session:
        entries = trail(session, line_code=line, plan_key=plan)
        if format is ExportFormat.XLSX:
            assert output is not None
            count = write_xlsx(entries, output, sheet_title=AUDIT_MESSAGES["sheet"])
        else:
            writer = write_csv if format is ExportFormat.CSV else write_json
            if output is None:
                buffer = io.StringIO()
                writer(entries, buffer)
                sys.stdout.write(buffer.getvalue())
                return
            # With a BOM, spreadsheet programs open the UTF-8 CSV with its diacritics intact.
            encoding = "utf-8-sig" if format is ExportFormat.CSV else "utf-8"
            with output.open("w", encoding=encoding, newline="") as stream:
                count = writer(entries, stream)
    typer.echo(AUDIT_MESSAGES["exported"].format(count=count, path=output), err=True)


@audit_app.command("show", help=AUDIT_MESSAGES["show.help"])
def show(
    code: Annotated[str, typer.Argument(metavar="CODE")],
    plan: Annotated[str | None, typer.Option("--plan", help=AUDIT_MESSAGES["plan.help"])] = None,
) -> None:
    settings = get_settings()
    zone = ZoneInfo(settings.timezone)
    with records_transaction(settings) as session:
        entries = list(trail(session, line_code=code, plan_key=plan))
    console = Console()
    if not entries:
        console.print(AUDIT_MESSAGES["no-history"].format(code=code))
        return
    table = Table(title=AUDIT_MESSAGES["timeline"].format(code=code), title_justify="left")
    for key in ("at", "action", "actor", "detail"):
        table.add_column(TIMELINE_COLUMNS[key], overflow="fold", no_wrap=key == "at")
    for entry in entries:
        moment = datetime.fromisoformat(entry.at).astimezone(zone)
        table.add_row(
            moment.strftime("%d/%m/%Y %H:%M:%S"),
            f"● {AUDIT_ACTIONS.get(entry.action, entry.action)}",
            entry.actor,
            describe(entry, shorten=True),
        )
    console.print(table)
