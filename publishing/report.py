"""The periodic report (báo cáo định kỳ) on a plan: every line's progress compiled into a Báo cáo
laid out per Decree 30/2020/NĐ-CP, with charts by section and by unit, and its XLSX annex.

Reads the records only; issuing it (number, signature, mail) is `publishing.reporting`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy.orm import Session

from definitions.doctypes import doc_type
from definitions.plan import Plan, ReportingDate
from definitions.process import PublicationStage
from definitions.stage_rules import Stage, kind_of
from duyet.definition_files import Definitions
from duyet.messages import PROGRESS, REPORT, STAGES, capitalize
from duyet.progress import (
    BoardLine,
    Tally,
    board_lines,
    by_section,
    ref_name,
    section_tallies,
    unit_tallies,
)
from publishing.annex import AnnexRow, annex_xlsx
from publishing.charts import progress_bars
from publishing.issue import number_line
from publishing.periods import lower_first, period_phrase
from publishing.skeleton import skeleton_spec
from publishing.spec import Block, DocumentSpec, Figure, Heading, Paragraph, Table
from records.publications import publication_of_cycle

REPORT_TYPE = doc_type("Báo cáo")
STAGE_ORDER = (Stage.DRAFT, Stage.REVIEW, Stage.APPROVAL, Stage.PUBLICATION)
CHART_WIDTH = 640  # SVG units: the page's text is 165 mm wide, so 11-unit labels print at 8 pt


@dataclass(frozen=True)
class Totals:
    """How many lines are where: published, open (by stage key), not started, stopped; and
    how many of them are late (`overdue` overlaps the others)."""

    lines: int
    published: int
    in_progress: dict[str, int]
    not_started: int
    stopped: int
    overdue: int

    @property
    def open(self) -> int:
        return sum(self.in_progress.values())


@dataclass(frozen=True)
class Report:
    spec: DocumentSpec  # the Báo cáo, number and date still blank
    xlsx: bytes  # the annex
    totals: Totals
    lines: list[BoardLine]


def report_summary(plan: Plan, period: ReportingDate) -> str:
    """The trích yếu, which also tells one period's report from another's in the register."""
    return REPORT["summary"].format(
        plan=_plan_reference(plan), period=period_phrase(period, plan.year)
    )


def compile_report(
    session: Session, defs: Definitions, plan: Plan, *, period: ReportingDate, now: dt.datetime
) -> Report:
    """The report on `plan` for `period` as the records stand at `now`, and its annex."""
    lines = board_lines(session, defs, plan, now=now)
    today = defs.today(now)
    totals = tally(lines)
    phrase = period_phrase(period, plan.year)
    organisation = defs.units(plan.id).organisation
    blocks: list[Block] = [
        Paragraph(
            text=REPORT["opening"].format(
                plan=_plan_reference(plan), organisation=organisation.short_name, period=phrase
            )
        ),
        *_results(defs, plan, lines, totals, today),
        *_shortcomings(defs, [line for line in lines if line.overdue], now),
        *_outlook(lines, *_horizon(plan, period)),
        Paragraph(text=REPORT["annex-note"]),
    ]
    spec = _base_spec(plan, defs).model_copy(
        update={"summary": report_summary(plan, period), "blocks": blocks}
    )
    rows = _annex_rows(session, defs, plan, lines)
    title = REPORT["annex-title"].format(summary=spec.summary)
    xlsx = annex_xlsx(rows, title=title, author=organisation.name, now=now)
    return Report(spec=spec, xlsx=xlsx, totals=totals, lines=lines)


def tally(lines: list[BoardLine]) -> Totals:
    """Where `lines` stand, counted."""
    open_lines = [line for line in lines if line.status == "open" and line.stage is not None]
    stages = Counter(line.stage for line in open_lines if line.stage)
    ordered = sorted(stages, key=lambda stage: (STAGE_ORDER.index(kind_of(stage)), stage))
    return Totals(
        lines=len(lines),
        published=sum(line.progress == "published" for line in lines),
        in_progress={stage: stages[stage] for stage in ordered},
        not_started=sum(line.cycle_id is None for line in lines),
        stopped=sum(line.progress == "stopped" for line in lines),
        overdue=sum(line.overdue for line in lines),
    )


def _base_spec(plan: Plan, defs: Definitions) -> DocumentSpec:
    # The skeleton of any line carries the plan's issuer, place and signer (`KT.` split).
    directory = defs.units(plan.id)
    skeleton = skeleton_spec(plan=plan, line=plan.lines[0], directory=directory)
    office = directory.unit(directory.roles.office)
    return skeleton.model_copy(
        update={
            "type_name": REPORT_TYPE.name,
            "type_code": REPORT_TYPE.abbreviation,
            "unit_code": None,
            "recipients": [directory.unit(directory.roles.director_board).name],
            "storage": ["VT", office.abbreviation or office.id],
            "draft": False,
        }
    )


def _results(
    defs: Definitions, plan: Plan, lines: list[BoardLine], totals: Totals, today: dt.date
) -> list[Block]:
    stages = ", ".join(f"{STAGES[stage]}: {count}" for stage, count in totals.in_progress.items())
    stopped = REPORT["stopped"].format(count=totals.stopped) if totals.stopped else ""
    summary = REPORT["totals"].format(
        date=_dmy(today),
        lines=totals.lines,
        published=totals.published,
        open=totals.open,
        stages=f" ({stages})" if stages else "",
        not_started=totals.not_started,
        stopped=stopped,
        overdue=totals.overdue,
    )
    header = REPORT["section-header"].split("|")
    if totals.stopped:
        header.insert(-1, REPORT["stopped-column"])
    rows = [
        _count_row(f"{group.code}. {group.title}", tally(group.lines), totals.stopped > 0)
        for group in by_section(plan, lines)
    ]
    rows.append(_count_row(REPORT["total-row"], totals, totals.stopped > 0))
    return [
        Heading(text=REPORT["results"]),
        Paragraph(text=summary),
        Paragraph(text=REPORT["by-section"]),
        Table(header=header, rows=rows, widths=[8] + [2] * (len(header) - 1)),
        _chart(section_tallies(plan, lines), REPORT["chart-sections"]),
        _chart(unit_tallies(defs.units(plan.id), lines), REPORT["chart-units"]),
    ]


def _count_row(label: str, totals: Totals, with_stopped: bool) -> list[str]:
    counts = [totals.lines, totals.published, totals.open, totals.not_started]
    counts += [totals.stopped] if with_stopped else []
    return [label, *map(str, [*counts, totals.overdue])]


def _chart(tallies: list[Tally], caption: str) -> Figure:
    svg = progress_bars(tallies, label=caption, width=CHART_WIDTH)
    return Figure(svg=str(svg), caption=caption)


def _shortcomings(defs: Definitions, overdue: list[BoardLine], now: dt.datetime) -> list[Block]:
    blocks: list[Block] = [Heading(text=REPORT["shortcomings"])]
    if not overdue:
        return [*blocks, Paragraph(text=REPORT["none-overdue"])]
    rows = [[*_line_cells(line), _where(defs, line, now)] for line in overdue]
    return [
        *blocks,
        Paragraph(text=REPORT["overdue"].format(count=len(overdue))),
        Table(header=REPORT["overdue-header"].split("|"), rows=rows, widths=[2, 9, 4, 3, 4]),
    ]


def _outlook(lines: list[BoardLine], horizon: dt.date, until: str) -> list[Block]:
    """Lines going on (open, not late) or due before the next reporting date, not started."""
    coming = [
        line
        for line in lines
        if not line.overdue
        and line.progress != "published"
        and (
            line.status == "open"
            or (line.cycle_id is None and line.due is not None and line.due < horizon)
        )
    ]
    blocks: list[Block] = [Heading(text=REPORT["outlook"])]
    if not coming:
        return [*blocks, Paragraph(text=REPORT["none-coming"].format(until=until))]
    rows = [[*_line_cells(line), PROGRESS[line.progress]] for line in coming]
    return [
        *blocks,
        Paragraph(text=REPORT["coming"].format(until=until)),
        Table(header=REPORT["coming-header"].split("|"), rows=rows, widths=[2, 9, 4, 3, 4]),
    ]


def _horizon(plan: Plan, period: ReportingDate) -> tuple[dt.date, str]:
    """The first day past the coming period, and how the report says it: the next reporting
    date, or after the last one the end of the plan year."""
    later = sorted(date.due for date in plan.reporting_dates if date.due > period.due)
    if later:
        return later[0], REPORT["until.next"].format(date=_dmy(later[0]))
    return dt.date(plan.year + 1, 1, 1), REPORT["until.year-end"].format(year=plan.year)


def _line_cells(line: BoardLine) -> list[str]:
    due = _dmy(line.due) if line.due else REPORT["no-deadline"]
    return [line.code, line.title, ", ".join(line.lead_names), due]


def _where(defs: Definitions, line: BoardLine, now: dt.datetime) -> str:
    """Where a late line stands: its stage (with the stage's deadline when that has passed
    too), or not opened."""
    if line.status != "open" or line.stage is None:
        return PROGRESS[line.progress if line.cycle_id else "not-started"]
    stage = capitalize(STAGES[line.stage])
    deadline = line.stage_deadline
    if deadline is not None and deadline < now:
        day = deadline.astimezone(defs.timezone).date()
        return REPORT["stage-late"].format(stage=stage, date=_dmy(day))
    return stage


def _annex_rows(
    session: Session, defs: Definitions, plan: Plan, lines: list[BoardLine]
) -> list[AnnexRow]:
    rows = []
    for line in lines:
        source = plan.line(line.code)
        is_open = line.status == "open" and line.stage is not None
        deadline = line.stage_deadline if is_open else None
        rows.append(
            AnnexRow(
                code=line.code,
                title=line.title,
                lead=", ".join(line.lead_names) or source.lead_text,
                partners=", ".join(ref_name(defs.units(plan.id), ref) for ref in source.partners)
                or source.partners_text,
                products=", ".join(source.products) or source.product_text,
                time=" ".join(source.timeline.text.split()),
                due=line.due,
                status=PROGRESS[line.progress],
                stage=capitalize(STAGES[line.stage]) if is_open and line.stage else "",
                round=line.round,
                stage_due=deadline.astimezone(defs.timezone).date() if deadline else None,
                waiting="; ".join(w.name for w in line.waiting) if is_open else "",
                published=_published(session, defs, plan, line),
            )
        )
    return rows


def _published(session: Session, defs: Definitions, plan: Plan, line: BoardLine) -> str:
    """`01/KH-SVHTTDL ngày 20/01/2023` when the line's cycle issued its document."""
    if line.progress != "published" or line.cycle_id is None:
        return ""
    record = publication_of_cycle(session, cycle_id=line.cycle_id)
    if record is None:  # published before documents were numbered
        return ""
    stage = defs.stage(plan.line(line.code), Stage.PUBLICATION)
    year_in_number = isinstance(stage, PublicationStage) and stage.issuing.year_in_number
    number = number_line(record, year_in_number).removeprefix("Số:").strip()
    return REPORT["published"].format(number=number, date=_dmy(record.issued_on))


def _plan_reference(plan: Plan) -> str:
    """`Kế hoạch số 15/KH-SVHTTDL ngày 05/01/2023 về triển khai…`, or `Kế hoạch triển khai…`
    when the plan has no number or date yet."""
    parts = ["Kế hoạch"]
    if plan.number and plan.number[0].isdigit():
        parts.append(f"số {plan.number}")
    if plan.date is not None:
        parts.append(f"ngày {_dmy(plan.date)}")
    title = " ".join(plan.title.split())
    if title.casefold().startswith("kế hoạch"):  # the title names the type itself
        title = title[len("kế hoạch") :].strip()
    title = lower_first(title)
    parts.append(f"về {title}" if len(parts) > 1 else title)
    return " ".join(parts)


def _dmy(day: dt.date) -> str:
    return f"{day:%d/%m/%Y}"
