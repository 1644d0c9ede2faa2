"""`duyet calendar …`: count working days the way every deadline of the engine counts them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from definitions.loader import DefinitionError, load_calendar
from definitions.workdays import WorkCalendar
from duyet.console import fail
from duyet.messages import CLI_CALENDAR as M
from duyet.settings import get_settings

calendar_app = typer.Typer(
    help="Lịch ngày làm việc (ngày lễ, Tết, ngày nghỉ bù).", no_args_is_help=True
)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise fail(M["bad-date"].format(text=text)) from exc


def _calendar() -> WorkCalendar:
    try:
        return load_calendar(get_settings().calendar_path)
    except DefinitionError as exc:
        raise fail(str(exc)) from exc


@calendar_app.command("add")
def add(
    start: Annotated[str, typer.Argument(help="Ngày bắt đầu, dạng YYYY-MM-DD")],
    days: Annotated[int, typer.Argument(help="Số ngày làm việc (âm: lùi lại)")],
    explain: Annotated[
        bool, typer.Option("--explain", help="Liệt kê các ngày nghỉ bỏ qua")
    ] = False,
) -> None:
    """Print the date N working days after START (weekends, holidays and days off skipped)."""
    calendar = _calendar()
    first = _date(start)
    result = calendar.add(first, days)
    typer.echo(result.isoformat())
    if explain:
        low, high = sorted((first, result))
        day = low + dt.timedelta(days=1)
        while day < high:
            if not calendar.is_working_day(day):
                reason = calendar.holiday_name(day) or M["weekend"]
                typer.echo(M["skipped"].format(day=day.isoformat(), reason=reason), err=True)
            day += dt.timedelta(days=1)


@calendar_app.command("show")
def show(year: Annotated[int, typer.Argument(help="Năm")]) -> None:
    """List the days off of YEAR that fall on weekdays, and the weekend days worked."""
    calendar = _calendar()
    day = dt.date(year, 1, 1)
    while day.year == year:
        working = calendar.is_working_day(day)
        if day.weekday() < 5 and not working:
            reason = calendar.holiday_name(day) or M["day-off"]
            typer.echo(M["off"].format(day=day.isoformat(), reason=reason))
        elif day.weekday() >= 5 and working:
            typer.echo(M["worked"].format(day=day.isoformat()))
        day += dt.timedelta(days=1)
