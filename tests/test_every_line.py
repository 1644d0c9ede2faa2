"""Every line of every shipped plan goes through the review cycle's body up to its first wait,
in-process: the cycle opened with a draft as `duyet start` does, the steps the stage rules call
for, the requests of the stage it waits at, and a suspension key Prefect accepts. The same task
functions the flow runs, without the Prefect server; the flows tier runs one line of each kind of
process on a real server (tests/flows/test_cli_cycles.py)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from definitions.stage_rules import StepKind
from duyet.definition_files import definitions
from duyet.records_bridge import record_import
from duyet.settings import Settings, get_settings
from flows.control import Draft, open_with_draft
from flows.review_cycle import wait_key
from records.migrate import upgrade
from tasks.cycle import CycleRef, OpenCycle, StepRequest, apply_step, open_or_attach, read_cycle
from tasks.mail import StageRef, send_requests
from tests.portal.conftest import portal_env
from tests.test_wait_key import KEY

DRAFT = Draft("Dự thảo".encode(), "du-thao.txt", "text/plain")
FIRST_WAITS = {"review", "approval", "review.opinions"}  # review.opinions: the legal process


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The tasks read their settings from the environment, as in a flow run's process."""
    for name, value in portal_env(tmp_path).items():
        monkeypatch.setenv(name, value)
    settings = get_settings()
    upgrade(settings.database_url)
    defs = definitions(settings)
    for plan_id in defs.plan_ids():
        record_import(defs.plan(plan_id), settings=settings, actor="test")
    return settings


def first_wait(plan_id: str, code: str, cycle_id: str) -> tuple[str, str, int]:
    """What the flow does until it suspends: (its wait key, stage, requests queued)."""
    run_id = str(uuid.uuid4())
    open_or_attach.fn(OpenCycle(plan_id=plan_id, code=code, cycle_id=cycle_id, flow_run_id=run_id))
    for _ in range(10):
        view = read_cycle.fn(CycleRef(cycle_id=cycle_id))
        if view.step == StepKind.WAIT:
            queued = send_requests.fn(
                StageRef(cycle_id=cycle_id, stage=view.stage, round=view.round)
            )
            return wait_key(view.stage, view.round, 0), view.stage, queued
        assert view.step != StepKind.DONE, (code, view.status)
        apply_step.fn(StepRequest.of(view))
    raise AssertionError(f"{plan_id} {code}: no wait after 10 steps")


def test_every_line_of_every_plan_reaches_its_first_wait(settings: Settings) -> None:
    defs = definitions(settings)
    reached = {}
    for plan_id in defs.plan_ids():
        for line in defs.plan(plan_id).lines:
            cycle_id = open_with_draft(
                settings, plan_id=plan_id, code=line.code, actor="office", draft=DRAFT
            )
            key, stage, queued = first_wait(plan_id, line.code, cycle_id)
            assert KEY.match(key), (plan_id, line.code, key)
            assert stage in FIRST_WAITS and queued >= 1, (plan_id, line.code, stage, queued)
            reached[(plan_id, line.code)] = stage
    assert len(reached) == sum(len(defs.plan(p).lines) for p in defs.plan_ids()) >= 57
    assert set(reached.values()) == FIRST_WAITS  # each kind of first wait is exercised
