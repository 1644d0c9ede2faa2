"""`duyet report PLAN_ID`: issue (or find) the plan's periodic report and write its two files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from definitions.loader import DefinitionError
from duyet.console import fail
from duyet.definition_files import definitions
from duyet.messages import REPORT_CLI as M
from duyet.records_bridge import cli_actor, records_transaction
from duyet.settings import get_settings
from publishing.keys import KeysMissingError
from publishing.periods import PeriodUnknown, choose_period, period_phrase
from publishing.reporting import issue_report


def report_command(
    plan_id: Annotated[str, typer.Argument(help=M["plan.help"])],
    period: Annotated[str | None, typer.Option("--period", help=M["period.help"])] = None,
    out: Annotated[Path | None, typer.Option("--out", help=M["out.help"])] = None,
) -> None:
    """Ban hành báo cáo định kỳ kết quả thực hiện kế hoạch (PDF ký số và Phụ lục XLSX)."""
    settings = get_settings()
    defs = definitions(settings)
    try:
        plan = defs.plan(plan_id)
    except DefinitionError:
        raise fail(M["no-plan"].format(plan=plan_id, path=defs.plans_dir)) from None
    now = dt.datetime.now(dt.UTC)
    try:
        chosen = choose_period(plan, period, today=defs.today(now))
    except PeriodUnknown as exc:
        if not exc.periods:
            raise fail(M["no-periods"].format(plan=plan.id)) from None
        periods = ", ".join(f"«{name}»" for name in exc.periods)
        raise fail(
            M["unknown-period"].format(plan=plan.id, period=period, periods=periods)
        ) from None
    # Keys are never made here: a report signed by a key nobody installed on purpose would be
    # worthless. Nothing is numbered either: the failed transaction gives the number back.
    try:
        with records_transaction(settings) as session:
            issued = issue_report(
                session, settings, defs, plan, period=chosen, now=now, actor=cli_actor()
            )
    except KeysMissingError as exc:
        issuer = defs.units(plan.id).organisation.code
        keys = exc.paths[0].parent if exc.paths else settings.keys_dir(issuer)
        raise fail(M["no-keys"].format(code=keys.name, path=keys)) from None
    folder = out or settings.var_dir / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    pdf, xlsx = folder / issued.record.filename, folder / issued.annex_filename
    pdf.write_bytes(issued.pdf)
    xlsx.write_bytes(issued.annex)
    record = issued.record
    number = issued.number_line.removeprefix("Số:").strip()
    date = f"{record.issued_on:%d/%m/%Y}"
    console = Console(highlight=False)
    if issued.found:
        phrase = period_phrase(chosen, plan.year)
        console.print(M["found"].format(period=phrase, number=number, date=date))
    else:
        console.print(M["issued"].format(number=number, date=date, summary=record.title))
    console.print(M["written"].format(pdf=pdf, xlsx=xlsx))
