"""Starting, resuming, cancelling and reconciling cycle runs on the Prefect API.

The records are the source of truth: every function here reads the cycle from them first and
only then asks Prefect to catch up, so a Prefect failure never loses a decision.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import arun_deployment
from prefect.exceptions import (
    FlowPauseTimeout,
    NotPausedError,
    ObjectNotFound,
    PrefectHTTPStatusError,
)
from prefect.flow_runs import aresume_flow_run
from prefect.states import Cancelled, Crashed

from definitions.stage_rules import Stage
from duyet.definition_files import definitions
from duyet.engine import CycleView, evaluate
from duyet.settings import Settings
from flows.deployments import cycle_run_name, line_deployment_path
from notifications.notices import notify_cancelled
from records.cycle_reads import open_cycles
from records.cycles import attach_flow_run, cancel_cycle, open_cycle
from records.documents import submit_version
from records.engine import session_scope

CONTROL_ACTOR = "duyet:control"
# States in which a run will never move the cycle again: the reconciler starts a new one.
DEAD_STATES = {StateType.FAILED, StateType.CRASHED, StateType.CANCELLED, StateType.COMPLETED}
# States a run holds only while a process drives it. Prefect does not notice the process vanish
# (a worker killed with its runs): held past `run_lease_seconds`, the run is lost.
LIVE_STATES = {StateType.PENDING, StateType.RUNNING}


class Nudge(StrEnum):
    RESUMED = "resumed"
    UNDECIDED = "undecided"  # people still have to act
    NOT_PAUSED = "not_paused"  # running (it will read the decision itself) or finished
    NO_RUN = "no_run"  # the cycle has no flow run yet
    CLOSED = "closed"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def view_of(settings: Settings, cycle_id: str, now: dt.datetime | None = None) -> CycleView:
    with session_scope(settings.database_url) as session:
        return evaluate(session, definitions(settings), cycle_id=cycle_id, now=now or _now())


async def start_run(
    client: PrefectClient,
    settings: Settings,
    view: CycleView,
    *,
    env: Mapping[str, str] | None = None,
) -> FlowRun:
    """Create the flow run that drives an open cycle (at most one per cycle and attempt).
    `env`: settings of this run alone (its job variables), e.g. `DUYET_WARM_WAIT_SECONDS`."""
    run = await arun_deployment(
        line_deployment_path(view.plan_id, view.code),
        client=client,
        parameters={"plan_id": view.plan_id, "code": view.code, "cycle_id": view.cycle_id},
        job_variables={"env": dict(env)} if env else None,
        flow_run_name=cycle_run_name(view.plan_id, view.code, view.round),
        timeout=0,
        as_subflow=False,
        idempotency_key=f"cycle-{view.cycle_id}-{view.flow_run_id or 'first'}",
    )
    with session_scope(settings.database_url) as session:
        attach_flow_run(
            session, cycle_id=view.cycle_id, flow_run_id=str(run.id), actor=CONTROL_ACTOR
        )
    return run


@dataclass(frozen=True)
class Draft:
    """A document the Office attaches when it opens a cycle."""

    content: bytes
    filename: str
    media_type: str


def open_with_draft(
    settings: Settings, *, plan_id: str, code: str, actor: str, draft: Draft | None = None
) -> str:
    """Open a cycle of the line in the records, with its first draft when given; its id."""
    defs = definitions(settings)
    line = defs.line(plan_id, code)
    now = _now()
    with session_scope(settings.database_url) as session:
        cycle = open_cycle(
            session,
            plan_key=plan_id,
            line_code=code,
            opened_by=actor,
            stage_deadline=defs.deadline(
                defs.today(now), defs.stage(line, Stage.DRAFT).deadline_days
            ),
            now=now,
        )
        if draft is not None:
            submit_version(
                session,
                cycle_id=cycle.id,
                content=draft.content,
                filename=draft.filename,
                media_type=draft.media_type,
                submitted_by=actor,
                max_bytes=settings.max_document_bytes,
                now=now,
            )
        return cycle.id


async def start_cycle(
    settings: Settings,
    *,
    plan_id: str,
    code: str,
    actor: str,
    draft: Draft | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[str, str]:
    """Open a cycle for a plan line in the records, then start its run; (cycle id, run id).

    If Prefect cannot be reached the cycle stays open without a run, and the reconciler
    starts it later: the error is raised all the same, for the caller to report.
    """
    cycle_id = open_with_draft(settings, plan_id=plan_id, code=code, actor=actor, draft=draft)
    async with get_client() as client:
        run = await start_run(client, settings, view_of(settings, cycle_id), env=env)
    return cycle_id, str(run.id)


async def resume_if_decided(
    settings: Settings, cycle_id: str, *, now: dt.datetime | None = None
) -> Nudge:
    """Resume the cycle's run when its current stage is decided; a no-op otherwise."""
    view = view_of(settings, cycle_id, now)
    if view.status != "open":
        return Nudge.CLOSED
    if not view.decided:
        return Nudge.UNDECIDED
    if view.flow_run_id is None:
        return Nudge.NO_RUN
    resume = {"cycle_id": cycle_id, "stage": view.stage, "round": view.round}
    try:
        await aresume_flow_run(UUID(view.flow_run_id), run_input=resume)
    except (NotPausedError, FlowPauseTimeout, ObjectNotFound):
        return Nudge.NOT_PAUSED
    except RuntimeError:  # the server refused: the run moved on meanwhile
        return Nudge.NOT_PAUSED
    except PrefectHTTPStatusError as error:
        # 409: the portal and the reconciler resumed it at the same moment; the other won.
        if error.response.status_code != 409:
            raise
        return Nudge.NOT_PAUSED
    return Nudge.RESUMED


async def cancel_run(client: PrefectClient, flow_run_id: str) -> None:
    """Cancel the run of a withdrawn cycle, whatever state it is in."""
    try:
        await client.set_flow_run_state(UUID(flow_run_id), Cancelled(), force=True)
    except ObjectNotFound:
        return


async def cancel_cycle_everywhere(
    settings: Settings, cycle_id: str, *, actor: str, reason: str
) -> None:
    """Withdraw a cycle: closed in the records with its links revoked and the units told, in one
    transaction; then its run is cancelled (the reconciler never restarts a closed cycle)."""
    defs = definitions(settings)
    with session_scope(settings.database_url) as session:
        cycle = cancel_cycle(session, cycle_id=cycle_id, actor=actor, reason=reason)
        notify_cancelled(
            session,
            settings=settings,
            directory=defs.units(cycle.plan_key),
            cycle_id=cycle_id,
            reason=reason,
            actor=actor,
        )
        flow_run_id = cycle.flow_run_id
    if flow_run_id is not None:
        async with get_client() as client:
            await cancel_run(client, flow_run_id)


@dataclass(frozen=True)
class Reconciled:
    cycle_id: str
    action: str  # resumed | restarted | started


async def reconcile(settings: Settings, *, now: dt.datetime | None = None) -> list[Reconciled]:
    """Make Prefect agree with the records: no open cycle is left without a live run.

    A suspended run whose stage is already decided is resumed (the decision came while it was
    still running, or the resume failed); a cycle whose run is gone, failed or crashed, or lost
    with its worker, gets a new run; a cycle that never got one gets its first.
    """
    with session_scope(settings.database_url) as session:
        cycle_ids = [c.id for c in open_cycles(session)]
    done: list[Reconciled] = []
    async with get_client() as client:
        for cycle_id in cycle_ids:
            view = view_of(settings, cycle_id, now)
            run = await _read_run(client, view.flow_run_id)
            if run is None:
                await start_run(client, settings, view)
                done.append(Reconciled(cycle_id, "started"))
            elif run.state is not None and run.state.type in DEAD_STATES:
                await start_run(client, settings, view)
                done.append(Reconciled(cycle_id, "restarted"))
            elif _lost(run, settings):
                # Crashed first: were its process alive after all, Prefect refuses its next
                # suspension, and the records refuse a step applied twice.
                await client.set_flow_run_state(run.id, Crashed(), force=True)
                await start_run(client, settings, view)
                done.append(Reconciled(cycle_id, "restarted"))
            elif (
                run.state is not None
                and run.state.type == StateType.PAUSED
                and view.decided
                and await resume_if_decided(settings, cycle_id, now=now) == Nudge.RESUMED
            ):
                done.append(Reconciled(cycle_id, "resumed"))
    return done


def _lost(run: FlowRun, settings: Settings) -> bool:
    """Pending or Running for longer than a run of a cycle ever is (wall clock, not `now`)."""
    state = run.state
    if state is None or state.type not in LIVE_STATES or state.timestamp is None:
        return False
    return _now() - state.timestamp > dt.timedelta(seconds=settings.run_lease_seconds)


async def _read_run(client: PrefectClient, flow_run_id: str | None) -> FlowRun | None:
    if flow_run_id is None:
        return None
    try:
        return await client.read_flow_run(UUID(flow_run_id))
    except ObjectNotFound:
        return None
