"""Importing and linting the seed plan, and deploying every line.

`import_s`: the seed plan (.txt) read, its units resolved, its time words parsed, its slips
linted — in-process, the definitions loaded afresh each time. `lint_cli_s`: the same as the
Office runs it, `duyet plan lint` in a new process (Python and the imports included).
`deploy_s`: every line's deployment, the plan's report and the sweeper registered on the
stack's Prefect server (46 upserts, what `duyet deploy` does, without writing prefect.yaml).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

from prefect.client.orchestration import get_client

from bench.common import Figures, Outcome
from bench.stack import BenchStack
from definitions.importer import import_file
from definitions.lint import all_findings
from definitions.loader import load_plan, load_processes, load_units
from duyet.settings import PROJECT_ROOT
from flows.deploy import apply
from flows.deployments import all_deployments

SEED = PROJECT_ROOT / "definitions" / "seed" / "ke-hoach-cchc-2023-svhttdl.txt"


def import_and_lint(stack: BenchStack) -> tuple[float, int, int]:
    """Seconds, lines, findings."""
    settings = stack.settings
    began = time.perf_counter()
    directory = load_units(settings.units_path)
    processes = load_processes(settings.processes_dir)
    plan = import_file(SEED, directory, processes=processes)
    findings = all_findings(plan)
    return time.perf_counter() - began, len(plan.lines), len(findings)


def lint_cli(stack: BenchStack) -> float:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "duyet.cli", "plan", "lint", str(SEED)],
        env=stack.up.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=False,
        timeout=120,
    )
    if done.returncode not in (0, 1):  # 1: the plan has errors, which is the linter's answer
        raise RuntimeError(done.stderr.decode(errors="replace"))
    return time.perf_counter() - began


def deploy(stack: BenchStack) -> tuple[float, int]:
    plans = [load_plan(p) for p in sorted(stack.settings.plans_dir.glob("*.yaml"))]
    specs = all_deployments(plans)

    async def register() -> None:
        async with get_client() as client:
            await apply(client, specs, project_dir=PROJECT_ROOT)

    began = time.perf_counter()
    with stack.prefect():
        asyncio.run(register())
    return time.perf_counter() - began, len(specs)


def measure(stack: BenchStack, *, quick: bool = False) -> Outcome:
    runs: list[Figures] = []
    lines = findings = deployments = 0
    for _ in range(1 if quick else 3):
        took, lines, findings = import_and_lint(stack)
        deployed, deployments = deploy(stack)
        runs.append({"import_s": took, "deploy_s": deployed, "lint_cli_s": lint_cli(stack)})
    return Outcome(
        runs,
        info={"lines": lines, "findings": findings, "deployments": deployments},
    )
