"""Decision -> the next stage's first mail accepted by SMTP, against a bare Prefect flow that
suspends and is resumed on the same server, pool, worker and poll settings.

duyet: a cycle waits at review for one unit (20 cycles of one such seed line); that reviewer's
POST starts the clock, the Director's board's approval request arriving at the SMTP server stops it
(the portal records, resumes the run; the worker starts the run's launcher, which has the fork
server fork a warm child that replays the flow, advances the stage and queues the mail; the outbox
sender sends it). The cycles' runs suspend at once (`DUYET_WARM_WAIT_SECONDS=0` in their job
variables): this measures the resume, the path of an answer that comes after the warm wait.
Prefect: `resume_flow_run` starts the clock; the bare flow's one mail stops it. Its deployment
keeps Prefect's own command, `python -m prefect.engine` (a cold process per run), as a user
running Prefect by hand would have it.
Samples alternate between the two so that the machine's load falls on both alike.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from uuid import UUID

import httpx
from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.flow_runs import aresume_flow_run

from bench.bare_flow import RUN_HEADER
from bench.common import Figures, Outcome, percentile, ratio, reading
from bench.cycles import review_lines, reviewers, seed_plan
from bench.people import link_in, open_form, post_answer
from bench.sink import Arrival
from bench.stack import BenchStack
from flows.control import Draft, start_cycle, view_of
from records.models import Mail

DRAFT = Draft("Dự thảo vòng 1 (bench)".encode(), "du-thao.txt", "text/plain")
PAUSED = StateType.PAUSED
# The resume is what is measured: the cycles' runs suspend at once, as the bare flow does (in a
# warm wait, an answer is read by the waiting process itself and no resume happens).
COLD = {"DUYET_WARM_WAIT_SECONDS": "0"}


@dataclass
class Cycle:
    code: str
    cycle_id: str
    run_id: str
    links: list[str] = field(default_factory=list)


async def state_of(client: PrefectClient, run_id: str) -> StateType | None:
    run = await client.read_flow_run(UUID(run_id))
    return run.state.type if run.state else None


async def until(probe: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not await probe():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.1)


def _settled(stack: BenchStack, cycle_id: str) -> bool:
    """No mail of the cycle waits in the outbox: the sink has them all."""
    with reading(stack.settings.database_url) as session:
        pending = session.query(Mail).filter(Mail.cycle_id == cycle_id, Mail.status == "pending")
        return pending.count() == 0


async def open_cycles(stack: BenchStack, client: PrefectClient, codes: list[str]) -> list[Cycle]:
    """Open a cycle per line with a draft; those that suspend at review with their links."""
    plan_id = seed_plan(stack.settings).id
    cycles = []
    for code in codes:
        cycle_id, run_id = await start_cycle(
            stack.settings, plan_id=plan_id, code=code, actor="bench", draft=DRAFT, env=COLD
        )
        cycles.append(Cycle(code, cycle_id, run_id))
    ready = []
    for cycle in cycles:

        async def rests(cycle: Cycle = cycle) -> bool:
            return await state_of(client, cycle.run_id) == PAUSED and _settled(
                stack, cycle.cycle_id
            )

        await until(rests, 300, f"{cycle.code} suspended")
        if view_of(stack.settings, cycle.cycle_id).stage != "review":
            continue
        cycle.links = [
            link
            for a in stack.sink.arrivals
            if a.header("X-Duyet-Cycle") == cycle.cycle_id
            and a.header("X-Duyet-Kind") == "review_request"
            and (link := link_in(a))
        ]
        ready.append(cycle)
    return ready


async def bare_runs(stack: BenchStack, client: PrefectClient, count: int) -> list[str]:
    runs = [
        await client.create_flow_run_from_deployment(
            stack.bare_deployment_id, parameters={"smtp_port": stack.sink.port}
        )
        for _ in range(count)
    ]
    for run in runs:

        async def paused(run_id: str = str(run.id)) -> bool:
            return await state_of(client, run_id) == PAUSED

        await until(paused, 300, f"bare run {run.id} suspended")
    return [str(run.id) for run in runs]


async def arrival(
    stack: BenchStack, start: int, header: str, value: str, kind: str = ""
) -> Arrival:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for found in stack.sink.arrivals[start:]:
            if found.header(header) == value and (not kind or found.header("X-Duyet-Kind") == kind):
                return found
        await asyncio.sleep(0.02)
    raise TimeoutError(f"no mail with {header}: {value}")


@dataclass
class Sample:
    latency: float
    post: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)


async def phases(
    client: PrefectClient, run_id: str, began: float, accepted: float, queued: float | None
) -> dict[str, float]:
    """Seconds from the start of a sample (wall clock) to each step the run took after it."""
    found: dict[str, float] = {}
    for state in await client.read_flow_run_states(UUID(run_id)):
        at = state.timestamp.timestamp() if state.timestamp else 0.0
        name = {
            StateType.SCHEDULED: "resumed",  # the API accepted the resume
            StateType.PENDING: "picked_up",  # the worker took it
            StateType.RUNNING: "running",  # the new process runs the flow
        }.get(state.type)
        if name and at >= began - 0.05 and name not in found:
            found[name] = at - began
    if queued is not None:
        found["mail_queued"] = queued - began  # the outbox row committed
    found["mail_accepted"] = accepted - began
    return found


def _queued_at(stack: BenchStack, cycle_id: str, kind: str) -> float | None:
    with reading(stack.settings.database_url) as session:
        rows = session.query(Mail).filter(Mail.cycle_id == cycle_id, Mail.kind == kind).all()
        return min((m.created_at.timestamp() for m in rows), default=None)


async def duyet_sample(
    stack: BenchStack, client: PrefectClient, http: httpx.AsyncClient, cycle: Cycle
) -> Sample:
    *first, last = cycle.links
    for link in first:
        await post_answer(http, await open_form(http, link))
    form = await open_form(http, last)
    start = stack.sink.count()
    began, wall = time.monotonic(), time.time()
    posted = await post_answer(http, form)
    if posted.status != 200:
        raise RuntimeError(f"POST {cycle.code}: {posted.status}")
    mail = await arrival(stack, start, "X-Duyet-Cycle", cycle.cycle_id, "approval_request")
    queued = _queued_at(stack, cycle.cycle_id, "approval_request")
    steps = await phases(client, cycle.run_id, wall, mail.wall, queued)
    sample = Sample(mail.at - began, posted.seconds, steps)

    async def rests() -> bool:
        return await state_of(client, cycle.run_id) == PAUSED

    await until(rests, 120, f"{cycle.code} suspended at approval")
    return sample


async def bare_sample(stack: BenchStack, client: PrefectClient, run_id: str) -> Sample:
    start = stack.sink.count()
    began, wall = time.monotonic(), time.time()
    await aresume_flow_run(UUID(run_id), run_input={"note": "go"})
    mail = await arrival(stack, start, RUN_HEADER, run_id)
    steps = await phases(client, run_id, wall, mail.wall, None)

    async def done() -> bool:
        return await state_of(client, run_id) == StateType.COMPLETED

    await until(done, 120, f"bare run {run_id} completed")
    return Sample(mail.at - began, phases=steps)


def median_phases(samples: list[Sample]) -> dict[str, float]:
    keys = [k for k in samples[0].phases] if samples else []
    return {
        key: round(percentile([s.phases[key] for s in samples if key in s.phases], 50), 3)
        for key in keys
    }


def figures(duyet: list[Sample], bare: list[Sample]) -> Figures:
    d50 = percentile([s.latency for s in duyet], 50)
    p50 = percentile([s.latency for s in bare], 50)
    return {
        "duyet_p50_s": d50,
        "duyet_p95_s": percentile([s.latency for s in duyet], 95),
        "prefect_p50_s": p50,
        "prefect_p95_s": percentile([s.latency for s in bare], 95),
        "ratio": ratio(d50, p50),
        "post_p95_ms": percentile([s.post * 1000 for s in duyet], 95),
    }


async def _measure(stack: BenchStack, samples: int, batches: int) -> Outcome:
    # One line whose review waits for one unit, a cycle per sample: the timed POST is the
    # only answer (several cycles of a line at once is allowed, and costs Prefect nothing more).
    single = [c for c in review_lines(stack.settings) if reviewers(stack.settings, c) == 1]
    codes = [single[0]] * (samples + 2)
    with stack.prefect():
        async with get_client() as client, httpx.AsyncClient(timeout=60) as http:
            cycles = (await open_cycles(stack, client, codes))[:samples]
            bare = await bare_runs(stack, client, len(cycles))
            ours: list[Sample] = []
            theirs: list[Sample] = []
            for cycle, run_id in zip(cycles, bare, strict=True):
                ours.append(await duyet_sample(stack, client, http, cycle))
                theirs.append(await bare_sample(stack, client, run_id))
    size = max(1, len(ours) // batches)
    runs = [
        figures(ours[i : i + size], theirs[i : i + size])
        for i in range(0, size * batches, size)
        if ours[i : i + size]
    ]
    pooled = {k: round(v, 4) for k, v in figures(ours, theirs).items()}
    return Outcome(
        runs,
        info={
            "samples": len(ours),
            "pooled": pooled,
            "db": stack.db,
            "phases_s": {"duyet": median_phases(ours), "prefect": median_phases(theirs)},
        },
        notes=[
            "one repeat = one batch of consecutive samples; `pooled` is over every sample",
            "duyet samples: the reviewer's POST at review; next stage: the approval request",
        ],
    )


def measure(stack: BenchStack, *, quick: bool = False) -> Outcome:
    samples, batches = (4, 1) if quick else (20, 2)
    return asyncio.run(_measure(stack, samples, batches))
