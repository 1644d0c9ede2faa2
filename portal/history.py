"""A plan line's history as auditors read it: the audit chain's events merged with the Prefect
state history of its runs, every document version with its diff, every decision. Reads only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from definitions.units import UnitDirectory
from duyet.messages import AUDIT_ACTIONS
from portal.orchestrator import RunState
from portal.shown import decision_view, diff_of, version_view
from records.cycle_reads import cycles_of_line, get_cycle
from records.decisions import decisions_of_cycle
from records.documents import versions_of_cycle
from records.plans import plan_line
from records.trail import Entry, describe, trail


@dataclass(frozen=True)
class Event:
    at: dt.datetime
    source: str  # "audit" or "prefect"
    title: str
    actor: str
    detail: str
    seq: int | None = None


@dataclass(frozen=True)
class CycleHistory:
    cycle_id: str
    status: str
    stage: str
    round: int
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    flow_run_id: str | None
    versions: list[dict[str, Any]]
    decisions: list[dict[str, Any]]


@dataclass(frozen=True)
class LineHistory:
    code: str
    title: str
    cycles: list[CycleHistory]
    events: list[Event]
    run_ids: list[str]


def line_history(
    session: Session, directory: UnitDirectory, zone: ZoneInfo, *, plan_id: str, code: str
) -> LineHistory:
    """Everything recorded about one line of a plan (`LineUnknown` if it has no such line)."""
    line = plan_line(session, plan_key=plan_id, code=code)
    cycles = [
        _cycle(session, directory, zone, cycle.id)
        for cycle in cycles_of_line(session, plan_key=plan_id, line_code=code)
    ]
    entries = list(trail(session, line_code=code, plan_key=plan_id))
    runs: list[str] = []
    for entry in entries:
        for key in ("flow_run_id", "previous_flow_run_id"):
            value = entry.payload.get(key)
            if isinstance(value, str) and value not in runs:
                runs.append(value)
    runs.extend(c.flow_run_id for c in cycles if c.flow_run_id and c.flow_run_id not in runs)
    return LineHistory(code, line.title, cycles, [_event(entry) for entry in entries], runs)


def _cycle(
    session: Session, directory: UnitDirectory, zone: ZoneInfo, cycle_id: str
) -> CycleHistory:
    cycle = get_cycle(session, cycle_id=cycle_id)
    versions: list[dict[str, Any]] = []
    previous = None
    for version in versions_of_cycle(session, cycle_id=cycle_id):
        versions.append(version_view(version, zone) | {"diff": diff_of(session, previous, version)})
        previous = version
    decisions = [
        decision_view(d, directory, zone) | {"ip": d.client_ip, "user_agent": d.user_agent}
        for d in decisions_of_cycle(session, cycle_id=cycle_id)
    ]
    return CycleHistory(
        cycle_id=cycle.id,
        status=cycle.status,
        stage=cycle.stage,
        round=cycle.round,
        opened_at=cycle.opened_at,
        closed_at=cycle.closed_at,
        flow_run_id=cycle.flow_run_id,
        versions=versions,
        decisions=decisions,
    )


def _event(entry: Entry) -> Event:
    return Event(
        at=dt.datetime.fromisoformat(entry.at),
        source="audit",
        title=AUDIT_ACTIONS.get(entry.action, entry.action),
        actor=entry.actor,
        detail=describe(entry),
        seq=entry.seq,
    )


def run_events(states: list[RunState]) -> list[Event]:
    return [
        Event(
            at=state.at,
            source="prefect",
            title=f"Prefect: {state.name}",
            actor=f"flow-run {state.flow_run_id[:8]}",
            detail=state.message,
        )
        for state in states
    ]


def merged(chain: list[Event], runs: list[Event]) -> list[Event]:
    """One timeline: the chain in its own order (seq), each run state placed by its time."""
    found: list[Event] = []
    index = 0
    for state in sorted(runs, key=lambda e: e.at):
        while index < len(chain) and chain[index].at <= state.at:
            found.append(chain[index])
            index += 1
        found.append(state)
    return found + chain[index:]
