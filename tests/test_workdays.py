"""Working days in Vietnam: weekends, Tết, substituted and make-up days, a department's own."""

from __future__ import annotations

import datetime as dt

import holidays
import pytest

from definitions.workdays import CalendarConfig, WorkCalendar, country_calendar

D = dt.date


@pytest.fixture(scope="module")
def calendar() -> WorkCalendar:
    return WorkCalendar(CalendarConfig(make_up_working_days=[D(2024, 5, 4)]))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2024, 1, 1), False),  # New Year
        (D(2024, 2, 12), False),  # Tết
        (D(2024, 4, 18), False),  # Giỗ Tổ Hùng Vương (10/3 lunar)
        (D(2024, 4, 29), False),  # bridged day off
        (D(2024, 4, 30), False),
        (D(2024, 5, 1), False),
        (D(2024, 5, 4), True),  # the Saturday worked in exchange
        (D(2024, 5, 5), False),  # an ordinary Sunday
        (D(2024, 9, 2), False),
        (D(2024, 9, 3), False),
        (D(2024, 9, 4), True),
    ],
)
def test_working_days(calendar: WorkCalendar, day: dt.date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_adding_working_days_skips_weekends_and_holidays(calendar: WorkCalendar) -> None:
    assert calendar.add(D(2024, 4, 26), 1) == D(2024, 5, 2)  # Fri -> skip 29/4, 30/4, 1/5
    assert calendar.add(D(2024, 5, 2), 2) == D(2024, 5, 4)  # Thu, Fri, then the make-up Saturday
    assert calendar.add(D(2024, 2, 7), 1) == D(2024, 2, 15)  # over Tết
    assert calendar.add(D(2024, 2, 15), -1) == D(2024, 2, 7)
    assert calendar.add(D(2024, 3, 4), 0) == D(2024, 3, 4)


def test_between_counts_working_days(calendar: WorkCalendar) -> None:
    assert calendar.between(D(2024, 3, 1), D(2024, 3, 8)) == 5
    assert calendar.between(D(2024, 3, 8), D(2024, 3, 1)) == -5


def test_a_department_day_off() -> None:
    calendar = WorkCalendar(CalendarConfig(extra_days_off=[D(2024, 3, 8)]))
    assert not calendar.is_working_day(D(2024, 3, 8))
    assert calendar.add(D(2024, 3, 7), 1) == D(2024, 3, 11)


def test_one_country_loaded_alone_has_the_packages_holidays() -> None:
    alone = country_calendar("VN")(language="vi")
    reference = holidays.country_holidays("VN", language="vi")
    days = [D(2024, 1, 1) + dt.timedelta(days=n) for n in range(366 * 6)]
    assert [alone.get(day) for day in days] == [reference.get(day) for day in days]
    with pytest.raises(KeyError):
        country_calendar("XX")
