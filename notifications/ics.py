"""Deadlines as calendar events (.ics, RFC 5545), so a request's deadline lands in the calendar."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from icalendar import Alarm, Calendar, Event

PRODID = "-//duyet//notifications//VI"


@dataclass(frozen=True)
class DeadlineEvent:
    """One all-day event on a deadline; the same `uid` again updates it in the calendar.

    `day` is the deadline's date in the office's time zone; an all-day DATE is floating, so
    it shows on that date wherever the calendar is.
    """

    uid: str
    day: date
    summary: str
    description: str
    alarm: str
    stamp: datetime
    url: str | None = None  # never a link with a token: calendars are shared and synced


def deadline_calendar(events: Sequence[DeadlineEvent]) -> bytes:
    """A METHOD:PUBLISH calendar with one all-day event per deadline."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for item in events:
        event = Event()
        event.add("uid", item.uid)
        event.add("dtstamp", item.stamp.astimezone(UTC))
        event.add("dtstart", item.day)
        event.add("dtend", item.day + timedelta(days=1))
        event.add("summary", item.summary)
        event.add("description", item.description)
        event.add("transp", "TRANSPARENT")
        if item.url:
            event.add("url", item.url)
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", item.alarm)
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
        calendar.add_component(event)
    return bytes(calendar.to_ical())
