"""The whole stack for flow and portal tests: a Prefect server, a process worker, the records
database, the definitions and a real SMTP server — each real, isolated under one folder."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar
from uuid import UUID

import yaml
from aiosmtpd.controller import Controller
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.deployments import arun_deployment
from prefect.settings import PREFECT_API_URL, temporary_settings

from definitions.loader import load_plan
from definitions.plan import Plan
from duyet.definition_files import definitions as load_definitions
from duyet.records_bridge import record_import
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from flows.deploy import apply
from flows.deployments import line_deployment, sweeper_deployment
from publishing.issue import ensure_signing_keys
from records import migrate
from tests.prefect_server import Server, prefect_server, start_worker, stop
from tests.smtp_sink import Recorder, smtp_sink

T = TypeVar("T")
SEED_PLAN = "ke-hoach-cchc-2023-svhttdl"
# Lines given another process than the default, to exercise the policies end to end.
PROCESS_OF_LINE = {"2.1.b": "quorum-2", "6.3": "first-response", "6.2": "silence-consents"}
REVIEW_POLICIES = {
    "quorum-2": {"policy": {"kind": "quorum", "count": 2}},
    "first-response": {"policy": {"kind": "any"}},
    "silence-consents": {"on_silence": "no_objection"},
}


def _variant_processes(definitions: Path) -> None:
    """Process definitions that differ from the default only in their review stage, and the
    seed lines that use them."""
    default = yaml.safe_load((definitions / "processes" / "default.yaml").read_text("utf-8"))
    for name, review in REVIEW_POLICIES.items():
        variant = {**default, "id": name, "name": f"{default['name']} ({name})"}
        variant["stages"] = [
            {**stage, **review} if stage["kind"] == "review" else stage
            for stage in default["stages"]
        ]
        (definitions / "processes" / f"{name}.yaml").write_text(
            yaml.safe_dump(variant, allow_unicode=True), "utf-8"
        )
    plan_path = definitions / "plans" / f"{SEED_PLAN}.yaml"
    plan = yaml.safe_load(plan_path.read_text("utf-8"))
    for line in plan["lines"]:
        line["process"] = PROCESS_OF_LINE.get(line["code"], line["process"])
    plan_path.write_text(yaml.safe_dump(plan, allow_unicode=True, sort_keys=False), "utf-8")


@dataclass
class Stack:
    server: Server
    settings: Settings
    env: dict[str, str]
    mail: Recorder
    plan: Plan
    # The processes behind it, for tests that stop, kill or restart them (tests/faults).
    worker: subprocess.Popen[bytes] | None = None
    smtp: Controller | None = None

    def run(self, flow_run_id: str) -> FlowRun:
        async def read() -> FlowRun:
            async with get_client() as client:
                return await client.read_flow_run(UUID(flow_run_id))

        return asyncio.run(read())

    def states(self, flow_run_id: str) -> list[str]:
        async def read() -> list[str]:
            async with get_client() as client:
                states = await client.read_flow_run_states(UUID(flow_run_id))
            return [s.type.value for s in states]

        return asyncio.run(read())

    def task_states(self, flow_run_id: str) -> dict[str, list[str]]:
        """The state names of the run's task runs, by task name (across every replay)."""

        async def read() -> dict[str, list[str]]:
            async with get_client() as client:
                runs = await client.read_task_runs(
                    flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
                )
            found: dict[str, list[str]] = {}
            for run in runs:
                name = run.name.rsplit("-", 1)[0]
                found.setdefault(name, []).append(run.state.name.upper() if run.state else "")
            return found

        return asyncio.run(read())

    def sweep(self, now: dt.datetime) -> FlowRun:
        """Run the sweeper deployment on the worker with a fixed clock, to completion."""

        async def run() -> FlowRun:
            async with get_client() as client:
                flow_run = await arun_deployment(
                    "sweeper/sweeper",
                    client=client,
                    parameters={"now": now.isoformat()},
                    timeout=120,
                    poll_interval=0.5,
                    as_subflow=False,
                )
                assert flow_run.state is not None and flow_run.state.is_completed(), flow_run.state
                return flow_run

        return asyncio.run(run())

    def wait_state(self, flow_run_id: str, state: StateType, timeout: float = 90) -> FlowRun:
        return wait_for(
            lambda: (
                (run := self.run(flow_run_id)).state is not None and run.state.type == state and run
            ),
            timeout=timeout,
            what=f"run {flow_run_id} to be {state.value}",
        )


def wait_for(probe: Callable[[], T | bool | None], *, timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found  # type: ignore[return-value]
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def running_stack(root: Path) -> Iterator[Stack]:
    """Start everything under `root`; stop it all afterwards."""
    definitions = root / "definitions"
    shutil.copytree(
        PROJECT_ROOT / "definitions",
        definitions,
        ignore=shutil.ignore_patterns("*.py", "__pycache__", "seed"),
    )
    _variant_processes(definitions)
    with smtp_sink() as (controller, recorder), prefect_server(root / "prefect") as server:
        env = {
            "DUYET_VAR_DIR": str(root / "var"),
            "DUYET_DATABASE_URL": f"sqlite:///{root / 'duyet.db'}",
            "DUYET_DEFINITIONS_DIR": str(definitions),
            "DUYET_SECRET_KEY": secrets.token_urlsafe(32),
            "DUYET_PUBLIC_BASE_URL": "http://portal.test",
            "DUYET_SMTP_HOST": "127.0.0.1",
            "DUYET_SMTP_PORT": str(controller.port),
            # Runs suspend at once, as the tests expect (one warm-waits through its own env).
            "DUYET_WARM_WAIT_SECONDS": "0",
        }
        settings = get_settings(env)  # explicit: nothing leaks into the other tests' environment
        migrate.upgrade(settings.database_url)
        ensure_signing_keys(settings, load_definitions(settings))
        plan = load_plan(definitions / "plans" / f"{SEED_PLAN}.yaml")
        # Every shipped plan, the seed and another department's whose line codes overlap it.
        plans = [load_plan(path) for path in sorted((definitions / "plans").glob("*.yaml"))]
        for each in plans:
            record_import(each, settings=settings, actor="test")
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):

            async def deploy() -> None:
                async with get_client() as client:
                    specs = [line_deployment(each, line) for each in plans for line in each.lines]
                    specs.append(replace(sweeper_deployment(), schedules=[]))  # run on demand
                    await apply(client, specs, project_dir=PROJECT_ROOT)

            asyncio.run(deploy())
            stack = Stack(
                server=server,
                settings=settings,
                env=env,
                mail=recorder,
                plan=plan,
                worker=start_worker(server, env),
                smtp=controller,
            )
            try:
                yield stack
            finally:
                if stack.worker is not None:  # the one running now, if a test replaced it
                    stop(stack.worker)
