"""A plan's progress as data: every line with its latest cycle, and the tallies the charts draw.
What the Office's board and the periodic report show; reads only, no web and no Prefect."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from definitions.plan import Plan, PlanLine
from definitions.units import UnitDirectory
from duyet.definition_files import Definitions
from duyet.engine import evaluate
from notifications.recipients import unit_name
from records.cycle_reads import cycles_of_line, get_cycle

PROGRESS_ORDER = ("published", "open", "overdue", "stopped", "not-started")


@dataclass(frozen=True)
class Waiting:
    unit: str
    name: str


@dataclass(frozen=True)
class BoardLine:
    code: str
    title: str
    section: str
    lead: tuple[str, ...]  # unit ids (or raw text the importer kept)
    lead_names: tuple[str, ...]
    due: dt.date | None
    start: dt.date | None = None  # when the plan says the work starts, if it says
    milestones: tuple[dt.date, ...] = ()
    cycle_id: str | None = None
    status: str | None = None  # open, published, rejected, cancelled
    stage: str | None = None
    round: int | None = None
    stage_deadline: dt.datetime | None = None
    opened: dt.date | None = None
    closed: dt.date | None = None
    waiting: tuple[Waiting, ...] = ()
    progress: str = "not-started"
    overdue: bool = False


@dataclass(frozen=True)
class SectionLines:
    code: str
    title: str
    lines: list[BoardLine]


@dataclass(frozen=True)
class Tally:
    label: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def board_lines(
    session: Session, defs: Definitions, plan: Plan, *, now: dt.datetime
) -> list[BoardLine]:
    """Each line of the plan with its latest cycle, in plan order."""
    today, directory = defs.today(now), defs.units(plan.id)
    found: list[BoardLine] = []
    for line in plan.lines:
        lead = tuple(line.lead)
        base = BoardLine(
            code=line.code,
            title=line.title,
            section=line.section,
            lead=lead,
            lead_names=tuple(ref_name(directory, ref) for ref in lead),
            due=line.timeline.due,
            start=line.timeline.start,
            milestones=tuple(line.timeline.milestones),
        )
        cycles = cycles_of_line(session, plan_key=plan.id, line_code=line.code)
        found.append(
            _with_cycle(session, defs, base, cycles[-1].id, now, today)
            if cycles
            else _idle(base, today)
        )
    return found


def ref_name(directory: UnitDirectory, ref: str) -> str:
    """A unit's or a group's name; raw text the importer kept, as it is."""
    group = next((g for g in directory.groups if g.id == ref), None)
    return group.name if group is not None else unit_name(directory, ref)


def _idle(base: BoardLine, today: dt.date) -> BoardLine:
    overdue = base.due is not None and base.due < today
    return replace(base, progress="overdue" if overdue else "not-started", overdue=overdue)


def _with_cycle(
    session: Session,
    defs: Definitions,
    base: BoardLine,
    cycle_id: str,
    now: dt.datetime,
    today: dt.date,
) -> BoardLine:
    view = evaluate(session, defs, cycle_id=cycle_id, now=now)
    cycle = get_cycle(session, cycle_id=cycle_id)
    opened = cycle.opened_at.astimezone(defs.timezone).date()
    closed = cycle.closed_at.astimezone(defs.timezone).date() if cycle.closed_at else None
    if view.status == "published":
        progress, overdue = "published", False
    elif view.status != "open":
        progress, overdue = "stopped", False
    else:
        late_stage = view.stage_deadline is not None and now > view.stage_deadline
        overdue = late_stage or (base.due is not None and base.due < today)
        progress = "overdue" if overdue else "open"
    return replace(
        base,
        cycle_id=cycle_id,
        status=view.status,
        stage=view.stage,
        round=view.round,
        stage_deadline=view.stage_deadline,
        opened=opened,
        closed=closed,
        waiting=tuple(Waiting(u, unit_name(defs.units(view.plan_id), u)) for u in view.missing),
        progress=progress,
        overdue=overdue,
    )


def by_section(plan: Plan, lines: list[BoardLine]) -> list[SectionLines]:
    titles = {section.code: section.title for section in plan.sections}
    order = list(dict.fromkeys([s.code for s in plan.sections] + [line.section for line in lines]))
    return [
        SectionLines(code, titles.get(code, code), [line for line in lines if line.section == code])
        for code in order
        if any(line.section == code for line in lines)
    ]


def section_tallies(plan: Plan, lines: list[BoardLine]) -> list[Tally]:
    return [
        Tally(f"{group.code}. {group.title}", _count(group.lines))
        for group in by_section(plan, lines)
    ]


def unit_tallies(directory: UnitDirectory, lines: list[BoardLine]) -> list[Tally]:
    """Progress of the lines each unit leads (a line with two leads counts for both)."""
    known = {unit.id for unit in directory.units}
    leads = list(dict.fromkeys(ref for line in lines for ref in line.lead if ref in known))
    return [
        Tally(unit_name(directory, unit), _count([line for line in lines if unit in line.lead]))
        for unit in leads
    ]


def _count(lines: list[BoardLine]) -> dict[str, int]:
    counts = Counter(line.progress for line in lines)
    return {key: counts[key] for key in PROGRESS_ORDER}


def select_lines(
    plan: Plan, *, scope: str, code: str, section: str, due_before: dt.date | None
) -> list[PlanLine]:
    """The lines a start request names: one line, a section, or all due before a date."""
    if scope == "line":
        return [line for line in plan.lines if line.code == code]
    if scope == "section":
        return [line for line in plan.lines if line.section == section]
    if scope == "due" and due_before is not None:
        return [
            line
            for line in plan.lines
            if line.timeline.due is not None and line.timeline.due < due_before
        ]
    return []
