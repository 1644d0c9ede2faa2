"""Working days (ngày làm việc): weekends, Vietnamese public holidays, and the department's
own days off and make-up working Saturdays, from `definitions/calendar.yaml`."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from functools import cached_property
from pathlib import Path

import holidays
from holidays.registry import COUNTRIES
from pydantic import Field

from definitions.units import Strict


class CalendarConfig(Strict):
    country: str = "VN"
    language: str = "vi"  # holiday names as users read them
    extra_days_off: list[dt.date] = []  # the department's own days off
    make_up_working_days: list[dt.date] = Field(
        default=[], description="weekend days worked in exchange for a bridged holiday"
    )


class WorkCalendar:
    """Counts working days; holidays come from the `holidays` package (substitutes included)."""

    def __init__(self, config: CalendarConfig | None = None) -> None:
        self.config = config or CalendarConfig()

    @cached_property
    def _holidays(self) -> holidays.HolidayBase:
        return country_calendar(self.config.country)(language=self.config.language)

    @cached_property
    def _days_off(self) -> frozenset[dt.date]:
        return frozenset(self.config.extra_days_off)

    @cached_property
    def _working_weekend_days(self) -> frozenset[dt.date]:
        return frozenset(self.config.make_up_working_days)

    def holiday_name(self, day: dt.date) -> str | None:
        return self._holidays.get(day)

    def is_working_day(self, day: dt.date) -> bool:
        if day in self._working_weekend_days:
            return True
        if day.weekday() >= 5 or day in self._days_off:
            return False
        return day not in self._holidays

    def add(self, start: dt.date, days: int) -> dt.date:
        """The date `days` working days after `start` (before it when negative)."""
        step = 1 if days >= 0 else -1
        day, left = start, abs(days)
        while left:
            day += dt.timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
        return day

    def between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative when end < start)."""
        if end < start:
            return -self.between(end, start)
        return sum(
            self.is_working_day(start + dt.timedelta(days=i))
            for i in range(1, (end - start).days + 1)
        )


def country_calendar(code: str) -> type[holidays.HolidayBase]:
    """The `holidays` class of one country (ISO code), importing that country's module only."""
    # `holidays.country_holidays` goes through the package `holidays.countries`, which imports
    # all 250 countries' modules: 0.05 s, 0.26 s on a loaded machine, in every flow process
    # that computes a deadline (each resumed run). One country's module needs none of them.
    for module, (class_name, *codes) in COUNTRIES.items():
        if code in codes:
            found: type[holidays.HolidayBase] = getattr(
                _country_module(f"holidays.countries.{module}"), class_name
            )
            return found
    raise KeyError(f"no public holidays known for country {code!r}")


def _country_module(name: str) -> object:
    found = sys.modules.get(name)
    if found is not None:
        return found
    path = Path(holidays.__file__).parent / "countries" / f"{name.rsplit('.', 1)[1]}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
