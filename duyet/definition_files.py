"""The definitions (units, calendar, processes, plans) as a process reads them from
`definitions/`: once per process and directory, a plan again when its file changes; and which
department's unit directory a cycle or a mail belongs to."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

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
from definitions.units import UnitDirectory
from definitions.workdays import WorkCalendar
from duyet.settings import Settings
from records.cycle_reads import get_cycle


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
        return cast(Plan, self._once("plan", plan_id, super().plan))

    def units(self, plan_id: str) -> UnitDirectory:
        return cast(UnitDirectory, self._once("units", plan_id, super().units))

    def _once(self, kind: str, plan_id: str, look_up: Callable[[str], Any]) -> Any:
        if (kind, plan_id) not in self._seen:
            self._seen[kind, plan_id] = look_up(plan_id)
        return self._seen[kind, plan_id]


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
