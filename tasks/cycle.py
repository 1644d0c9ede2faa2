"""Tasks that read and move a cycle in the records. Each is idempotent: keyed by cycle, stage
and round, persisted, and checked against the records before it writes."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict

from definitions.stage_rules import Stage, StepKind, Verdict
from duyet.definition_files import definitions
from duyet.engine import CycleView, evaluate
from duyet.settings import get_settings
from records.cycle_reads import cycle_of_flow_run, get_cycle
from records.cycles import (
    advance_stage,
    attach_flow_run,
    close_rejected,
    open_cycle,
    publish_document,
)
from records.engine import read_scope, session_scope
from tasks import mail

ACTOR = "flow:review-cycle"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OpenCycle(Frozen):
    plan_id: str
    code: str
    cycle_id: str | None
    flow_run_id: str
    opened_by: str = ACTOR


class CycleRef(Frozen):
    cycle_id: str


class StepRequest(Frozen):
    cycle_id: str
    stage: str
    round: int
    step: StepKind
    target: str | None
    verdict: Verdict | None
    by_silence: bool = False

    @classmethod
    def of(cls, view: CycleView) -> StepRequest:
        """The step the stage rules chose for the cycle as `view` shows it."""
        return cls(
            cycle_id=view.cycle_id,
            stage=view.stage,
            round=view.round,
            step=view.step,
            target=view.target,
            verdict=view.verdict,
            by_silence=view.by_silence,
        )


def _key(_: TaskRunContext, parameters: dict[str, Any]) -> str:
    request = parameters["request"]
    if isinstance(request, OpenCycle):
        return f"open-{request.flow_run_id}-{request.cycle_id}"
    if isinstance(request, StepRequest):
        return f"step-{request.cycle_id}-{request.stage}-r{request.round}"
    raise TypeError(type(request))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def current_round(cycle_id: str | None) -> int:
    """The cycle's round now (1 for a run that has not opened its cycle yet)."""
    run_id = flow_run.get_id()
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        if cycle_id is not None:
            return get_cycle(session, cycle_id=cycle_id).round
        cycle = cycle_of_flow_run(session, flow_run_id=str(run_id)) if run_id else None
        return cycle.round if cycle is not None else 1


@task(persist_result=True, cache_key_fn=_key, retries=3, retry_delay_seconds=2)
def open_or_attach(request: OpenCycle) -> str:
    """The cycle this flow run drives: the one given, the one it opened before, or a new one."""
    settings = get_settings()
    defs = definitions(settings)
    with session_scope(settings.database_url) as session:
        if request.cycle_id is not None:
            attach_flow_run(
                session,
                cycle_id=request.cycle_id,
                flow_run_id=request.flow_run_id,
                actor=request.opened_by,
            )
            return request.cycle_id
        existing = cycle_of_flow_run(session, flow_run_id=request.flow_run_id)
        if existing is not None:
            return existing.id
        line = defs.line(request.plan_id, request.code)
        draft = defs.stage(line, Stage.DRAFT)
        now = _now()
        cycle = open_cycle(
            session,
            plan_key=request.plan_id,
            line_code=request.code,
            opened_by=request.opened_by,
            flow_run_id=request.flow_run_id,
            stage_deadline=defs.deadline(defs.today(now), draft.deadline_days),
            now=now,
        )
        return cycle.id


@task(cache_policy=NO_CACHE, persist_result=False, retries=3, retry_delay_seconds=2)
def read_cycle(request: CycleRef) -> CycleView:
    """The cycle as the records hold it now: never cached, re-read on every replay."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        return evaluate(session, definitions(settings), cycle_id=request.cycle_id, now=_now())


# Seconds between reads of the records in a warm wait; then every second.
WARM_POLLS = (0.1, 0.2, 0.3, 0.5, 0.75)


def answered_while_warm(request: CycleRef, stage: str, round: int) -> bool:
    """Whether the stage (at this round) was answered within `warm_wait_seconds`: the records
    read every so often until then. A plain function, not a task: a read is not worth a task
    run (API calls) each. False: the run is to suspend (its key makes a late answer's resume
    find it, and the portal and the reconciler resume it as ever)."""
    settings = get_settings()
    deadline = time.monotonic() + settings.warm_wait_seconds
    delays = iter(WARM_POLLS)
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(next(delays, 1.0), remaining))
        with read_scope(settings.database_url) as session:
            view = evaluate(session, definitions(settings), cycle_id=request.cycle_id, now=_now())
        if view.step != StepKind.WAIT or (view.stage, view.round) != (stage, round):
            return True
    return False


@task(persist_result=True, cache_key_fn=_key, retries=3, retry_delay_seconds=2)
def apply_step(request: StepRequest) -> str:
    """Move the cycle as the stage rules decided, with its mail, in one transaction."""
    settings = get_settings()
    defs = definitions(settings)
    with session_scope(settings.database_url) as session:
        now = _now()
        view = evaluate(session, defs, cycle_id=request.cycle_id, now=now)
        if (view.stage, view.round) != (request.stage, request.round):
            return "moved-already"  # a replay, or another process applied it first
        line = defs.line(view.plan_id, view.code)
        today = defs.today(now)
        if request.step in (StepKind.ADVANCE, StepKind.BACK_TO_DRAFT):
            assert request.target is not None
            deadline = defs.deadline(today, defs.stage(line, request.target).deadline_days)
            advance_stage(
                session,
                cycle_id=request.cycle_id,
                target=request.target,
                actor=ACTOR,
                round_change=1 if request.step == StepKind.BACK_TO_DRAFT else 0,
                stage_deadline=deadline,
                now=now,
            )
        elif request.step == StepKind.PUBLISH:
            # Imported here: WeasyPrint and pyHanko are most of this module's import time, and
            # every resumed run imports it again, while one step in a cycle publishes.
            from publishing.issue import issue_cycle_document

            issued = issue_cycle_document(
                session, settings, defs, cycle_id=request.cycle_id, actor=ACTOR, now=now
            )
            publish_document(session, cycle_id=request.cycle_id, actor=ACTOR, now=now)
            mail.published(session, settings, defs, view, issued)
        elif request.step == StepKind.CLOSE_REJECTED:
            close_rejected(
                session,
                cycle_id=request.cycle_id,
                actor=ACTOR,
                verdict=str(request.verdict),
                now=now,
            )
            mail.closed_rejected(session, settings, defs, view)
        return str(request.step)
