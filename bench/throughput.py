"""The whole seed plan at once: every line opened with a draft, one after the other as
`duyet start --section` does, every reviewer answering over HTTP as soon as their mail arrives,
until every cycle is published (1.1, a legal normative document, waits by law for its 30-day
public comment period: it is done once every opinion is in). The runs keep the installed
default warm wait (`DUYET_WARM_WAIT_SECONDS`, 20 s): answers that come while a run waits for
them are read by the run itself, with no suspension and resume.

The clock runs from the first `start_cycle` to the last publication (`closed_at` in the
records). Counted alongside: decisions posted, mails accepted by SMTP, and what the databases
caused: "database is locked" in the logs of the processes on the records (worker, portal,
sender) and, apart, in the Prefect server's; task runs run more than once; 503s from the portal;
runs the sweeper's reconciler had to restart or resume (the bench runs it every 30 s in place of
the sweeper's 5 minutes: on SQLite, Prefect's server sometimes refuses the worker a run, 503
while its database is locked, and the worker reports the run crashed).

`scale`: every line of every plan (two departments) on Prefect's distributed setup
(`python -m bench.throughput --setup scale`, tests/scale/cluster.py, docs/deploy.md): two API
processes and the services apart on PostgreSQL and Redis, two workers, records on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.exceptions import PrefectHTTPStatusError

from bench.common import RESULTS_DIR, Outcome, reading
from bench.cycles import seed_plan
from bench.people import ANSWERED_KINDS, link_in, open_form, post_answer
from bench.sink import Arrival, Sink
from bench.stack import BenchStack
from definitions.stage_rules import StepKind
from duyet.definition_files import definitions
from duyet.engine import evaluate
from duyet.settings import Settings
from flows.control import Draft, open_with_draft, reconcile, start_run, view_of
from records.models import ReviewCycle

DRAFT = Draft("Dự thảo vòng 1 (bench)".encode(), "du-thao.txt", "text/plain")
TIMEOUT = 900.0
LOCKED = "database is locked"
PERIOD_STAGE = "review.opinions"
RECORDS_CHILDREN = ("worker", "portal", "sender")  # the processes that use the records
# The sweeper's reconciler, every 5 minutes in `duyet up` (paused on the bench's stack), is run
# by the bench this often: a run Prefect lost (its server refused the worker) is restarted.
SWEEP_EVERY = 30.0


class Target(Protocol):
    """What a plan run needs of a stack: `duyet up` (BenchStack) or the scale cluster
    (tests/scale/cluster.py)."""

    sink: Sink

    @property
    def settings(self) -> Settings: ...

    def prefect(self) -> AbstractContextManager[object]: ...

    def log_count(self, needle: str, *children: str) -> int: ...


@dataclass
class Tally:
    cycles: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    mails: int = 0
    reconciled: int = 0  # runs the reconciler restarted or resumed
    start_refused: int = 0  # lines opened whose run Prefect refused to create (5xx)
    answering: set[asyncio.Task[None]] = field(default_factory=set)


async def _open(stack: Target, plan_id: str, code: str, tally: Tally) -> str:
    """`start_cycle`, as `duyet start` runs it, but a run Prefect refuses to create (its
    SQLite locked: 503) is counted and left to the reconciler, as in production."""
    settings = stack.settings
    cycle_id = open_with_draft(settings, plan_id=plan_id, code=code, actor="bench", draft=DRAFT)
    try:
        async with get_client() as client:
            await start_run(client, settings, view_of(settings, cycle_id))
    except PrefectHTTPStatusError as error:
        if error.response.status_code < 500:
            raise
        tally.start_refused += 1
    return cycle_id


async def _answer(http: httpx.AsyncClient, url: str, tally: Tally) -> None:
    form = await open_form(http, url)
    if form.status != 200:
        tally.statuses[form.status] += 1
        return
    posted = await post_answer(http, form)
    tally.statuses[posted.status] += 1


async def _respond(
    queue: asyncio.Queue[Arrival], http: httpx.AsyncClient, tally: Tally, seen: list[Arrival]
) -> None:
    """Answer every request of the plan's cycles as it arrives, each in its own task."""
    while True:
        arrival = await queue.get()
        seen.append(arrival)
        if arrival.header("X-Duyet-Kind") not in ANSWERED_KINDS:
            continue
        link = link_in(arrival)
        if link is not None:
            task = asyncio.create_task(_answer(http, link, tally))
            tally.answering.add(task)
            task.add_done_callback(tally.answering.discard)


def _done(stack: Target, ids: set[str]) -> tuple[set[str], list[ReviewCycle]]:
    """The cycles done: closed, or waiting only for a legal comment period to run (1.1's
    `review.opinions`, 30 days by law) with every opinion in; and every cycle as it is."""
    defs, now = definitions(stack.settings), dt.datetime.now(dt.UTC)
    with reading(stack.settings.database_url) as session:
        rows = session.query(ReviewCycle).filter(ReviewCycle.id.in_(ids)).all()
        done = {c.id for c in rows if c.status != "open"}
        for cycle in rows:
            if cycle.status == "open" and cycle.stage == PERIOD_STAGE:
                view = evaluate(session, defs, cycle_id=cycle.id, now=now)
                if view.step == StepKind.WAIT and not view.missing:
                    done.add(cycle.id)
    return done, rows


async def _reruns(stack: Target, run_ids: list[str]) -> int:
    """Task runs that ran more than once (a retry) in the plan's flow runs."""
    with stack.prefect():
        async with get_client() as client:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(r) for r in run_ids]))
            )
    return sum(max(0, run.run_count - 1) for run in runs)


async def play(
    stack: Target,
    lines: list[tuple[str, str]],
    *,
    midway: Callable[[], None] | None = None,
    sweep_every: float = SWEEP_EVERY,
) -> Outcome:
    """Open every (plan id, code) line and answer every request until all are published;
    `midway` (a fault, say) is called once half of them are, while the answers go on; the
    reconciler runs every `sweep_every` seconds."""
    locked_before = stack.log_count(LOCKED, *RECORDS_CHILDREN)
    prefect_before = stack.log_count(LOCKED, "prefect-server")
    tally, seen = Tally(), list[Arrival]()
    queue = stack.sink.subscribe()
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(timeout=120, limits=limits) as http:
        responder = asyncio.create_task(_respond(queue, http, tally, seen))
        began, wall = time.monotonic(), time.time()
        with stack.prefect():  # one after the other, as `duyet start --section` does
            for plan_id, code in lines:
                tally.cycles.add(await _open(stack, plan_id, code, tally))
        opened_s = time.monotonic() - began
        swept = time.monotonic()
        while len((found := _done(stack, tally.cycles))[0]) < len(lines):
            if midway is not None and 2 * len(found[0]) >= len(lines):
                await asyncio.to_thread(midway)
                midway = None
            if time.monotonic() - began > TIMEOUT:
                where = sorted(f"{c.line_code}:{c.stage}" for c in found[1] if c.id not in found[0])
                raise TimeoutError(f"not done after {TIMEOUT:.0f} s: {', '.join(where)}")
            if time.monotonic() - swept > sweep_every:
                swept = time.monotonic()
                with stack.prefect():
                    tally.reconciled += len(await reconcile(stack.settings))
            await asyncio.sleep(1.0)
        done_s = time.monotonic() - began
        await asyncio.sleep(3)  # the last publication mails
        responder.cancel()
        stack.sink.unsubscribe(queue)
    closed = [c for c in found[1] if c.status != "open"]
    published = [c.closed_at.timestamp() - wall for c in closed if c.closed_at]
    wall_s = max(published) if len(closed) == len(lines) else done_s
    ours = [a for a in seen if a.header("X-Duyet-Cycle") in tally.cycles]
    statuses = dict(tally.statuses)
    run_ids = [c.flow_run_id for c in found[1] if c.flow_run_id]
    figures = {
        "wall_s": wall_s,
        "lines": float(len(lines)),
        "decisions": float(tally.statuses[200]),
        "mails": float(len(ours)),
        "locked_retries": float(stack.log_count(LOCKED, *RECORDS_CHILDREN) - locked_before),
        "prefect_locked": float(stack.log_count(LOCKED, "prefect-server") - prefect_before),
        "task_reruns": float(await _reruns(stack, run_ids)),
        "portal_503": float(tally.statuses[503]),
        "reconciled": float(tally.reconciled),
        "start_refused": float(tally.start_refused),
        "opened_s": opened_s,
    }
    return Outcome(
        [figures],
        info={
            "published": sum(c.status == "published" for c in closed),
            "waiting_for_comment_period": len(lines) - len(closed),
            "answers_by_status": {str(k): v for k, v in sorted(statuses.items())},
        },
    )


def measure(stack: BenchStack, *, quick: bool = False) -> Outcome:
    plan = seed_plan(stack.settings)  # the 44 lines the goal names, not another department's
    lines = [(plan.id, line.code) for line in plan.lines]
    outcome = asyncio.run(play(stack, lines[:8] if quick else lines))
    prefect_db = stack.up.env["PREFECT_SERVER_DATABASE_CONNECTION_URL"].split(":")[0]
    outcome.info |= {"db": stack.db, "prefect_db": prefect_db}
    return outcome


def measure_scale(*, quick: bool = False) -> Outcome:
    """The same play on Prefect's distributed setup (tests/scale/cluster.py: two API processes,
    services apart, PostgreSQL and Redis, two workers): every line of every plan, no fault."""
    from tests.scale.cluster import temporary_cluster  # the harness the scale tier runs on

    with temporary_cluster() as cluster:
        outcome = asyncio.run(play(cluster, cluster.lines(8 if quick else None)))
    outcome.info |= {"db": "postgresql", "prefect_db": "postgresql+asyncpg", "setup": "scale"}
    return outcome


def main(argv: list[str] | None = None) -> int:
    """`python -m bench.throughput --setup scale [--quick]`: the plan throughput on the
    distributed setup, merged into bench/results/ as plan_throughput.scale."""
    parser = argparse.ArgumentParser(prog="python -m bench.throughput")
    parser.add_argument("--setup", choices=["scale"], required=True)
    parser.add_argument("--quick", action="store_true", help="8 lines a plan")
    args = parser.parse_args(argv)
    summary = measure_scale(quick=args.quick).summary()
    path = RESULTS_DIR / ("quick.json" if args.quick else "latest.json")
    results = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    results.setdefault("plan_throughput", {})[args.setup] = summary
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, ensure_ascii=False))
    if not args.quick:
        from bench.report import write_docs  # it reads this module's docstring

        print(f"{write_docs(results)} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
