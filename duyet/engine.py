"""The review engine: a cycle read from the records and judged by its process definition.

Used alike by the flow's tasks, the portal, the sweeper and the CLI, so that they all agree on
what a cycle waits for. No Prefect here.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from definitions.actors import stage_actors
from definitions.loader import (
    DefinitionError,
    load_calendar,
    load_plan,
    load_processes,
    load_units,
)
from definitions.plan import Plan, PlanLine
from definitions.process import ProcessDefinition
from definitions.process import Stage as StageDefinition
from definitions.stage_rules import (
    Answer,
    CycleState,
    Stage,
    Step,
    StepKind,
    Verdict,
    kind_of,
    next_step,
)
from definitions.units import UnitDirectory
from definitions.workdays import WorkCalendar
from duyet.settings import Settings
from records.cycles import get_cycle
from records.decisions import decisions_of_cycle
from records.documents import version_of_round
from records.models import ReviewCycle


class AnswerView(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit: str
    stage: str
    round: int
    verdict: Verdict
    comment: str
    at: dt.datetime

    @classmethod
    def of(cls, decision: Any) -> AnswerView:
        """From a `Decision`, or a row with its columns."""
        return cls(
            unit=decision.reviewer_unit,
            stage=decision.stage,
            round=decision.round,
            verdict=Verdict(decision.verdict),
            comment=decision.comment,
            at=decision.decided_at,
        )


class CycleView(BaseModel):
    """A cycle as the engine sees it: where it is, who must act, what happens next."""

    model_config = ConfigDict(frozen=True)

    cycle_id: str
    plan_id: str
    code: str
    stage: str  # the stage key (`review`, `review.appraisal`…)
    round: int
    status: str
    flow_run_id: str | None
    stage_deadline: dt.datetime | None
    due: dt.date | None
    document_sha256: str | None  # the version of this round, if any
    expected: list[str]
    answers: list[AnswerView]  # of this stage and round
    step: StepKind
    target: str | None
    verdict: Verdict | None
    missing: list[str]
    by_silence: bool

    @property
    def decided(self) -> bool:
        """Nothing left to wait for at this stage: the flow can move on."""
        return self.step not in (StepKind.WAIT, StepKind.DONE)


@dataclass(frozen=True)
class Definitions:
    """Everything read from `definitions/`: loaded once per process and directory."""

    directory: UnitDirectory  # `units.yaml`: the installation's own, for what has no plan
    calendar: WorkCalendar
    processes: dict[str, ProcessDefinition]
    plans_dir: Path
    timezone: ZoneInfo

    def plan(self, plan_id: str) -> Plan:
        # Keyed by modification time: a long-lived process (portal, worker) sees a re-import.
        path = self.plans_dir / f"{plan_id}.yaml"
        return _plan(path, _mtime(path))

    def units(self, plan_id: str) -> UnitDirectory:
        """The unit directory of the department whose plan this is (its units, organisation,
        mail domain, register and signing key)."""
        path = self.plans_dir.parent / self.plan(plan_id).units
        return _units(path, _mtime(path))

    def plan_ids(self) -> list[str]:
        return sorted(path.stem for path in self.plans_dir.glob("*.yaml"))

    def directories(self) -> list[UnitDirectory]:
        """The installation's directory and every plan's, each once."""
        found = [self.directory]
        for plan_id in self.plan_ids():
            directory = self.units(plan_id)
            if directory not in found:
                found.append(directory)
        return found

    def line(self, plan_id: str, code: str) -> PlanLine:
        return self.plan(plan_id).line(code)

    def process_of(self, line: PlanLine) -> ProcessDefinition:
        return self.processes[line.process]

    def stage(self, line: PlanLine, key: str) -> StageDefinition:
        """The stage of the line's process with this key (`draft`, `review.appraisal`…)."""
        return self.process_of(line).stage(key)

    def deadline(self, start: dt.date, working_days: int) -> dt.datetime:
        """The end of the working day `working_days` after `start`, in the office's time zone."""
        day = self.calendar.add(start, working_days)
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.timezone)

    def today(self, now: dt.datetime) -> dt.date:
        return now.astimezone(self.timezone).date()

    def pinned(self) -> Definitions:
        """These definitions with each plan and unit directory looked up once (not a stat of
        its file at every use): for one page or one step, which sees one state of the files."""
        return _Pinned(**{f.name: getattr(self, f.name) for f in fields(Definitions)})


@dataclass(frozen=True)
class _Pinned(Definitions):
    _seen: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False, repr=False)

    def plan(self, plan_id: str) -> Plan:
        key = ("plan", plan_id)
        if key not in self._seen:
            self._seen[key] = super().plan(plan_id)
        return cast(Plan, self._seen[key])

    def units(self, plan_id: str) -> UnitDirectory:
        key = ("units", plan_id)
        if key not in self._seen:
            self._seen[key] = super().units(plan_id)
        return cast(UnitDirectory, self._seen[key])


def _mtime(path: Path) -> int:
    try:  # one system call (it runs several times for every page the portal shows)
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


@lru_cache(maxsize=16)
def _plan(path: Path, _mtime_ns: int) -> Plan:
    return load_plan(path)


@lru_cache(maxsize=16)
def _units(path: Path, _mtime_ns: int) -> UnitDirectory:
    return load_units(path)


@lru_cache(maxsize=4)
def _definitions(root: Path, timezone: str) -> Definitions:
    return Definitions(
        directory=load_units(root / "units.yaml"),
        calendar=load_calendar(root / "calendar.yaml"),
        processes=load_processes(root / "processes"),
        plans_dir=root / "plans",
        timezone=ZoneInfo(timezone),
    )


def definitions(settings: Settings) -> Definitions:
    """The definitions under `settings.definitions_dir` (cached; plans re-read per path)."""
    return _definitions(settings.definitions_dir, settings.timezone)


def units_of_cycle(session: Session, defs: Definitions, *, cycle_id: str) -> UnitDirectory:
    """The unit directory of the plan the cycle belongs to."""
    return defs.units(get_cycle(session, cycle_id=cycle_id).plan_key)


def mail_directories(defs: Definitions) -> Callable[[Session, str | None], UnitDirectory]:
    """For the sender: the directory of the plan a mail's cycle belongs to; the installation's
    for a mail about no cycle, or of a plan no longer in the definitions (its mail still goes)."""

    plans: dict[str, str] = {}  # cycle id -> plan id, which never changes: one read a cycle

    def of(session: Session, cycle_id: str | None) -> UnitDirectory:
        if cycle_id is None:
            return defs.directory
        if cycle_id not in plans:
            plans[cycle_id] = get_cycle(session, cycle_id=cycle_id).plan_key
        try:
            return defs.units(plans[cycle_id])
        except DefinitionError:
            return defs.directory

    return of


def evaluate(session: Session, defs: Definitions, *, cycle_id: str, now: dt.datetime) -> CycleView:
    """Read the cycle and its answers, and apply the stage rules to them."""
    cycle = get_cycle(session, cycle_id=cycle_id)
    line = defs.line(cycle.plan_key, cycle.line_code)
    answers = [
        AnswerView.of(d)
        for d in decisions_of_cycle(session, cycle_id=cycle_id)
        if (d.stage, d.round) == (cycle.stage, cycle.round)
    ]
    version = version_of_round(session, cycle_id=cycle_id, round=cycle.round)
    expected = expected_at(defs, line, cycle.plan_key, cycle.stage)
    return judge(defs, line, cycle, expected, answers, version.sha256 if version else None, now)


def expected_at(defs: Definitions, line: PlanLine, plan_id: str, stage: str) -> list[str]:
    """The units a stage of the line waits for (none at publication or once closed)."""
    if kind_of(stage) in (Stage.CLOSED, Stage.PUBLICATION):
        return []
    return stage_actors(defs.stage(line, stage), line, defs.units(plan_id))


def judge(
    defs: Definitions,
    line: PlanLine,
    cycle: ReviewCycle,
    expected: list[str],
    answers: list[AnswerView],
    document_sha256: str | None,
    now: dt.datetime,
) -> CycleView:
    """The stage rules applied to a cycle as read: its answers at its stage and round, the
    document it put up for the round (`document_sha256`, if any)."""
    step = _step(
        defs, line, cycle, expected, answers, has_version=document_sha256 is not None, now=now
    )
    return CycleView(
        cycle_id=cycle.id,
        plan_id=cycle.plan_key,
        code=cycle.line_code,
        stage=cycle.stage,
        round=cycle.round,
        status=cycle.status,
        flow_run_id=cycle.flow_run_id,
        stage_deadline=cycle.stage_deadline,
        due=cycle.due,
        document_sha256=document_sha256,
        expected=list(expected),
        answers=answers,
        step=step.kind,
        target=step.target,
        verdict=step.verdict,
        missing=list(step.missing),
        by_silence=step.by_silence,
    )


def _period_over(defs: Definitions, line: PlanLine, cycle: ReviewCycle, now: dt.datetime) -> bool:
    """Whether a stage held open for a set period (public comment) has run it in full."""
    if kind_of(cycle.stage) != Stage.REVIEW or cycle.stage_started_at is None:
        return True
    days = getattr(defs.stage(line, cycle.stage), "public_comment_days", 0)
    return now >= cycle.stage_started_at + dt.timedelta(days=days)


def _step(
    defs: Definitions,
    line: PlanLine,
    cycle: ReviewCycle,
    expected: list[str],
    answers: list[AnswerView],
    *,
    has_version: bool,
    now: dt.datetime,
) -> Step:
    deadline_passed = cycle.stage_deadline is not None and now > cycle.stage_deadline
    state = CycleState(
        stage=cycle.stage,
        round=cycle.round,
        has_version=has_version,
        deadline_passed=deadline_passed,
        period_over=_period_over(defs, line, cycle, now),
    )
    return next_step(
        defs.process_of(line),
        state,
        expected=expected,
        answers=[Answer(a.unit, a.verdict) for a in answers],
    )
