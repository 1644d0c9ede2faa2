"""The reporting periods a plan sets (Section III: quý I by 05/3, 6 tháng by 05/6…): which one a
report is for, and how a sentence names it."""

from __future__ import annotations

import datetime as dt

from definitions.plan import Plan, ReportingDate
from duyet.messages import REPORT


class PeriodUnknown(LookupError):
    """The plan names no reporting date by this period (or none at all: `periods` empty)."""

    def __init__(self, plan_id: str, period: str | None, periods: list[str]) -> None:
        super().__init__(f"plan {plan_id} has no reporting period {period!r}")
        self.plan_id, self.period, self.periods = plan_id, period, periods


def choose_period(plan: Plan, period: str | None, *, today: dt.date) -> ReportingDate:
    """The reporting date named `period` (case and spacing aside); None: the first one due on
    or after `today`, else the plan's last one."""
    dates = sorted(plan.reporting_dates, key=lambda date: date.due)
    names = [date.period for date in dates]
    if not dates:
        raise PeriodUnknown(plan.id, period, names)
    if period is None:
        return next((date for date in dates if date.due >= today), dates[-1])
    wanted = _key(period)
    for date in dates:
        if _key(date.period) == wanted:
            return date
    raise PeriodUnknown(plan.id, period, names)


def period_phrase(period: ReportingDate, year: int) -> str:
    """`quý I năm 2023`, `6 tháng đầu năm 2023`, `năm 2023`: the period inside a sentence."""
    name = " ".join(period.period.split())
    if _key(name) == "năm":
        return REPORT["period.year"].format(year=year)
    if _key(name) == "6 tháng":
        return REPORT["period.half"].format(year=year)
    lowered = lower_first(name)
    if str(year) in lowered:
        return lowered
    return REPORT["period.other"].format(period=lowered, year=year)


def lower_first(text: str) -> str:
    """`Triển khai…` -> `triển khai…`, `Quý I` -> `quý I`; an acronym (`CCHC…`) stays."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()
