"""The Office's commands against the running stack: start, status, cancel, deploy."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from typer.testing import CliRunner

from definitions.loader import load_plan
from duyet.cli import app
from duyet.settings import PROJECT_ROOT
from notifications.links import LinkOutcome, check_link
from records.engine import session_scope
from tests.factories import OTHER_PLAN
from tests.flows.helpers import stage_of, token_in
from tests.flows.test_review_cycle import mails, suspended_at
from tests.prefect_server import PREFECT, prefect_env
from tests.stack import Stack, wait_for

pytestmark = pytest.mark.slow
runner = CliRunner()


def cli(stack: Stack, *args: str) -> str:
    result = runner.invoke(app, list(args), env={**stack.env, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_start_status_and_cancel(stack: Stack, tmp_path: Path) -> None:
    draft = tmp_path / "du-thao.txt"
    draft.write_text("Dự thảo kế hoạch tự chủ tài chính", encoding="utf-8")
    plan = ("--plan", stack.plan.id)  # 5.2 is a line of both shipped plans
    started = json.loads(cli(stack, "start", "5.2", *plan, "--draft", str(draft), "--json"))[
        "started"
    ]
    cycle_id, run_id = started[0]["cycle_id"], started[0]["flow_run_id"]
    suspended_at(stack, cycle_id, run_id, "review", 1)
    status = json.loads(cli(stack, "status", "5.2", *plan, "--json"))["cycles"]
    mine = next(c for c in status if c["id"] == cycle_id)
    assert (mine["stage"], mine["round"], mine["flow_run_id"], mine["state"]) == (
        "review", 1, run_id, "Suspended"
    )  # fmt: skip
    assert "5.2" in cli(stack, "status")
    requests = mails(stack, cycle_id, "review_request")
    assert len(requests) == 5
    cli(stack, "cancel", "5.2", *plan, "--reason", "Thay đổi nhiệm vụ")
    assert stage_of(stack.settings, cycle_id) == ("closed", 1, "cancelled")
    stack.wait_state(run_id, StateType.CANCELLED, timeout=30)
    with session_scope(stack.settings.database_url) as session:  # every link died
        for message in requests:
            check = check_link(
                session, secret=stack.settings.require_secret(), raw_token=token_in(message)
            )
            assert check.outcome == LinkOutcome.REVOKED
    told = mails(stack, cycle_id, "cancelled")
    assert len(told) == 6  # the lead and the five reviewers
    done = json.loads(cli(stack, "status", "5.2", *plan, "--json"))["cycles"]
    assert next(c for c in done if c["id"] == cycle_id)["stage"] == "done"


def test_another_departments_line_runs_on_its_own_deployment(stack: Stack, tmp_path: Path) -> None:
    draft = tmp_path / "du-thao.txt"
    draft.write_text("Dự thảo kế hoạch rà soát thủ tục hành chính", encoding="utf-8")
    out = cli(stack, "start", "2.1.a", "--plan", OTHER_PLAN, "--draft", str(draft), "--json")
    [started] = json.loads(out)["started"]
    cycle_id, run_id = started["cycle_id"], started["flow_run_id"]
    suspended_at(stack, cycle_id, run_id, "review", 1)
    assert stack.run(run_id).name == f"2.1.a@{OTHER_PLAN} · vòng 1"
    requests = mails(stack, cycle_id, "review_request")
    assert requests and all(str(m["To"]).endswith("@stp.example") for m in requests)
    cli(stack, "cancel", "2.1.a", "--plan", OTHER_PLAN)
    stack.wait_state(run_id, StateType.CANCELLED, timeout=30)


# One line of each kind of process and first wait; every line of every plan goes through the
# flow's body in-process (tests/test_every_line.py).
EACH_KIND = {
    "1.1": "review.opinions",  # the legal normative process
    "2.1.a": "review",  # the default process, three departments review
    "2.1.b": "review",  # quorum of two
    "6.2": "review",  # silence consents
    "6.3": "review",  # the first answer decides
    "2.2.a": "approval",  # nobody reviews: straight to the Director's board
}


def test_a_line_of_each_kind_of_process_can_be_started(stack: Stack, tmp_path: Path) -> None:
    draft = tmp_path / "du-thao.txt"
    draft.write_text("Dự thảo", encoding="utf-8")
    started = []
    for code in EACH_KIND:
        out = cli(
            stack, "start", code, "--plan", stack.plan.id, "--draft", str(draft), "--json"
        )  # fmt: skip
        started += json.loads(out)["started"]
    assert [s["code"] for s in started] == list(EACH_KIND)
    for item in started:
        wait_for(
            lambda item=item: stack.run(item["flow_run_id"]).state.type == StateType.PAUSED,
            timeout=300,
            what=f"{item['code']} suspended",
        )
    stages = {s["code"]: stage_of(stack.settings, s["cycle_id"])[0] for s in started}
    assert stages == EACH_KIND


def test_prefect_deploy_all_with_the_generated_yaml(stack: Stack, tmp_path: Path) -> None:
    out = cli(stack, "deploy", "--yaml-only", "--prefect-yaml", str(tmp_path / "prefect.yaml"))
    plans = [load_plan(path) for path in stack.settings.plans_dir.glob("*.yaml")]
    assert str(sum(len(plan.lines) + 1 for plan in plans) + 1) in out  # lines, reports, sweeper
    committed = (PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8")
    assert (
        committed
        == (tmp_path / "prefect.yaml")
        .read_text(encoding="utf-8")
        .replace(str(tmp_path), str(PROJECT_ROOT))
        or "review-cycle" in committed
    )
    env = {**prefect_env(stack.server.home, stack.server.api_url), "PWD": str(PROJECT_ROOT)}
    result = subprocess.run(
        [
            PREFECT,
            "--no-prompt",
            "deploy",
            "--all",
            "--prefect-file",
            str(tmp_path / "prefect.yaml"),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

    async def count() -> int:
        async with get_client() as client:
            deployments = await client.read_deployments()
        return sum(d.work_pool_name == "duyet" for d in deployments)

    assert asyncio.run(count()) >= 45
