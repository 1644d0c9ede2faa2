"""Charts drawn on the server as inline SVG (no JavaScript): the plan's deadlines on a year
timeline (Gantt-like) and progress bars by section or unit. Pure: data in, markup out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from duyet.messages import PORTAL, PROGRESS
from duyet.progress import PROGRESS_ORDER, Tally

COLORS = {
    "published": "#2e7d32",
    "open": "#1565c0",
    "overdue": "#c62828",
    "stopped": "#757575",
    "not-started": "#b0bec5",
}
FONT = 'font-family="Arial,Helvetica,sans-serif"'


@dataclass(frozen=True)
class GanttRow:
    code: str
    title: str
    planned: dt.date | None  # when the plan says the work starts (None: the plan's year)
    due: dt.date | None
    progress: str
    opened: dt.date | None = None  # the cycle, from its opening to its end (or today)
    ended: dt.date | None = None
    milestones: tuple[dt.date, ...] = ()


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label="{escape(label)}" {FONT} font-size="11">'
        f"<title>{escape(label)}</title>"
    )
    return Markup(head + "".join(body) + "</svg>")


def gantt(rows: Sequence[GanttRow], *, year: int, today: dt.date, label: str) -> Markup:
    """One row per line: the planned period (outlined, up to the deadline's mark), and the
    cycle's actual span (filled, from its opening to its end or today), milestones as ticks."""
    width, left, right, top, row_h = 960, 70, 16, 26, 15
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    span = (end - start).days or 1
    plot = width - left - right

    def x(day: dt.date) -> float:
        clamped = min(max(day, start), end)
        return round(left + (clamped - start).days / span * plot, 1)

    height = top + row_h * len(rows) + 34
    body = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    for month in range(1, 13):
        mx = x(dt.date(year, month, 1))
        body.append(
            f'<line x1="{mx}" y1="{top - 6}" x2="{mx}" y2="{height - 30}" stroke="#e0e0e0"/>'
            f'<text x="{mx + 3}" y="{top - 10}" fill="#555">T{month}</text>'
        )
    for index, row in enumerate(rows):
        y = top + index * row_h
        color = COLORS.get(row.progress, COLORS["not-started"])
        tip = escape(f"{row.code} — {row.title} — {PROGRESS.get(row.progress, row.progress)}")
        body.append(f"<g><title>{tip}</title>")
        body.append(f'<text x="4" y="{y + 11}" fill="#222">{escape(row.code)}</text>')
        if row.due is not None:
            x1, x2 = x(row.planned or start), x(row.due)
            body.append(
                f'<rect x="{min(x1, x2)}" y="{y + 2}" width="{max(abs(x2 - x1), 2)}" '
                f'height="11" fill="none" stroke="{color}" stroke-dasharray="3 2" rx="2"/>'
            )
        if row.opened is not None:
            x1, x2 = x(row.opened), x(row.ended or today)
            body.append(
                f'<rect x="{x1}" y="{y + 4}" width="{max(x2 - x1, 3)}" height="7" '
                f'fill="{color}" opacity="0.8" rx="2"/>'
            )
        for milestone in row.milestones:
            mx = x(milestone)
            body.append(f'<line x1="{mx}" y1="{y + 1}" x2="{mx}" y2="{y + 14}" stroke="#555"/>')
        if row.due is not None:
            dx = x(row.due)
            body.append(
                f'<path d="M{dx} {y + 2} l5 5.5 l-5 5.5 l-5 -5.5 z" fill="{color}" '
                f'stroke="#222" stroke-width="0.5"/>'
            )
        else:
            no_deadline = escape(PORTAL["no-deadline"])
            body.append(f'<text x="{left + 4}" y="{y + 11}" fill="#777">{no_deadline}</text>')
        body.append("</g>")
    if start <= today <= end:
        tx = x(today)
        body.append(
            f'<line x1="{tx}" y1="{top - 6}" x2="{tx}" y2="{height - 30}" stroke="#ef6c00" '
            f'stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    body.append(_legend(height - 18))
    return _svg(width, height, label, body)


def progress_bars(tallies: Sequence[Tally], *, label: str, width: int = 960) -> Markup:
    """One stacked bar per section (or unit): how many lines are in each state; `width` in SVG
    units (a narrower chart prints larger on a page)."""
    left, row_h, top = 300, 22, 8
    plot = width - left - 60
    height = top + row_h * len(tallies) + 30
    body = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    for index, tally in enumerate(tallies):
        y = top + index * row_h
        name = tally.label if len(tally.label) <= 48 else tally.label[:47] + "…"
        body.append(f'<text x="4" y="{y + 14}" fill="#222">{escape(name)}</text>')
        x = float(left)
        for key in PROGRESS_ORDER:
            count = tally.counts.get(key, 0)
            if not count or not tally.total:
                continue
            w = round(count / tally.total * plot, 1)
            tip = escape(f"{tally.label}: {PROGRESS[key]} {count}")
            body.append(
                f'<rect x="{x}" y="{y + 3}" width="{w}" height="15" fill="{COLORS[key]}">'
                f"<title>{tip}</title></rect>"
            )
            if w >= 14:
                body.append(
                    f'<text x="{x + w / 2}" y="{y + 14}" fill="#fff" text-anchor="middle">'
                    f"{count}</text>"
                )
            x += w
        body.append(f'<text x="{left + plot + 6}" y="{y + 14}" fill="#222">{tally.total}</text>')
    body.append(_legend(height - 14))
    return _svg(width, height, label, body)


def _legend(y: float) -> str:
    parts, x = [], 4.0
    for key in PROGRESS_ORDER:
        parts.append(
            f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{COLORS[key]}"/>'
            f'<text x="{x + 14}" y="{y}" fill="#333">{escape(PROGRESS[key])}</text>'
        )
        x += 24 + 7 * len(PROGRESS[key])
    return "".join(parts)
