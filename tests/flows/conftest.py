"""The whole stack for flow tests: a Prefect server, a process worker, the records database,
the definitions and a real SMTP server — each real, each isolated under one temporary folder."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.settings import PREFECT_API_URL, temporary_settings

from definitions.loader import load_plan
from definitions.plan import Plan
from duyet.records_bridge import record_import
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from flows.deploy import apply
from flows.deployments import line_deployment
from records import migrate
from tests.prefect_server import Server, prefect_server, start_worker, stop
from tests.smtp_sink import Recorder, smtp_sink

T = TypeVar("T")
SEED_PLAN = "ke-hoach-cchc-2023-svhttdl"


@dataclass
class Stack:
    server: Server
    settings: Settings
    env: dict[str, str]
    mail: Recorder
    plan: Plan

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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("stack")
    definitions = root / "definitions"
    shutil.copytree(
        PROJECT_ROOT / "definitions",
        definitions,
        ignore=shutil.ignore_patterns("*.py", "__pycache__", "seed"),
    )
    with smtp_sink() as (controller, recorder), prefect_server(root / "prefect") as server:
        env = {
            "DUYET_VAR_DIR": str(root / "var"),
            "DUYET_DATABASE_URL": f"sqlite:///{root / 'duyet.db'}",
            "DUYET_DEFINITIONS_DIR": str(definitions),
            "DUYET_SECRET_KEY": secrets.token_urlsafe(32),
            "DUYET_PUBLIC_BASE_URL": "http://portal.test",
            "DUYET_SMTP_HOST": "127.0.0.1",
            "DUYET_SMTP_PORT": str(controller.port),
        }
        settings = get_settings(env)  # explicit: nothing leaks into the other tests' environment
        migrate.upgrade(settings.database_url)
        plan = load_plan(definitions / "plans" / f"{SEED_PLAN}.yaml")
        record_import(plan, settings=settings, actor="test")
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):

            async def deploy() -> None:
                async with get_client() as client:
                    specs = [line_deployment(plan, line) for line in plan.lines]
                    await apply(client, specs, project_dir=PROJECT_ROOT)

            asyncio.run(deploy())
            worker = start_worker(server, env)
            try:
                yield Stack(server=server, settings=settings, env=env, mail=recorder, plan=plan)
            finally:
                stop(worker)
