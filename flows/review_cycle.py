"""The review cycle of one plan line: draft -> review -> approval -> publication.

The flow only orchestrates: the records decide where the cycle is (re-read on every replay),
the stage rules decide what comes next, tasks do the I/O. People are waited for in the process
for a short while (`warm_wait_seconds`: answers that come at once need no resume), then by
suspending the run; the portal records a decision first and then resumes the run.
"""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run
from pydantic import BaseModel

from definitions.stage_rules import StepKind
from flows.deployments import cycle_run_name
from tasks.cycle import (
    CycleRef,
    OpenCycle,
    StepRequest,
    answered_while_warm,
    apply_step,
    current_round,
    open_or_attach,
    read_cycle,
)
from tasks.mail import StageRef, send_requests
from tasks.runs import RunName, rename_run

# A cycle moves through at most a few stages per round; this bounds a runaway loop.
MAX_STEPS = 200


class Resume(BaseModel):
    """What a resume carries. The flow trusts only the records; this is for the run's history."""

    cycle_id: str
    stage: str
    round: int
    reason: str = "decided"


def run_name() -> str:
    """`2.2.đ@<plan id> · vòng 2`: the round as the records hold it when this process
    (re)starts."""
    parameters = flow_run.get_parameters()
    round = current_round(parameters.get("cycle_id"))
    return cycle_run_name(parameters["plan_id"], parameters["code"], round)


def wait_key(stage: str, round: int, attempt: int) -> str:
    """`review-r2`; a second wait at the same stage and round gets `review-r2-1`, and so on.

    A key already used returns its stored input at once on replay, so a wait that must really
    suspend again needs a key it has never used. Prefect's input keys take lowercase letters,
    digits and dashes only: a stage key's dot becomes a dash (`review-opinions-r1`).
    """
    return f"{stage.replace('.', '-')}-r{round}" + (f"-{attempt}" if attempt else "")


@flow(name="review-cycle", flow_run_name=run_name, persist_result=True, log_prints=False)
def review_cycle(plan_id: str, code: str, cycle_id: str | None = None) -> str:
    """Drive one review cycle of plan line `code` until it is published, rejected or cancelled."""
    logger = get_run_logger()
    run_id = str(flow_run.get_id())
    cycle_id = open_or_attach(
        OpenCycle(plan_id=plan_id, code=code, cycle_id=cycle_id, flow_run_id=run_id)
    )
    attempts: dict[tuple[str, int], int] = {}
    for _ in range(MAX_STEPS):
        view = read_cycle(CycleRef(cycle_id=cycle_id))
        if view.step == StepKind.DONE:
            logger.info("Cycle %s of %s closed: %s", cycle_id, code, view.status)
            return view.status
        if view.step == StepKind.WAIT:
            send_requests(StageRef(cycle_id=cycle_id, stage=view.stage, round=view.round))
            place = (view.stage, view.round)
            if answered_while_warm(CycleRef(cycle_id=cycle_id), *place):
                logger.info("Stage %s of round %s answered while waiting warm", *place)
                continue
            attempt = attempts.get(place, 0)
            attempts[place] = attempt + 1
            suspend_flow_run(wait_for_input=Resume, key=wait_key(*place, attempt))
            continue
        apply_step(StepRequest.of(view))
        if view.step == StepKind.BACK_TO_DRAFT:
            name = cycle_run_name(plan_id, code, view.round + 1)
            rename_run(RunName(flow_run_id=run_id, name=name))
    raise RuntimeError(f"cycle {cycle_id} did not settle after {MAX_STEPS} steps")
