"""Open cycles held: 100, 1,000 and 10,000 cycles waiting at review, and what that costs.

The cycles are not played (10,000 flow processes would take hours here). Each is made with the
repository functions a played cycle goes through — opened, its draft put up, moved to review
(`records.cycles.open_cycle`, `records.documents.submit_version`, `advance_stage`), 100 to a
transaction — and its Prefect flow run is created directly in the state a suspended run is in
(`Suspended`: Paused, `pause_key` "review-r1", its input keyset; no process held), 100 to a
request through the API's bulk endpoint, then attached to the cycle (`attach_flow_run`), as
`start_cycle` does. The review requests (links and mails) are queued only for the cycles whose
links are posted to, just before, and marked sent. At each size: the worker's and the portal's
resident memory, the POST of a first answer on 20 of those links (the stage still waits for
others: no resume), and `duyet status --json` run as the Office runs it (a new process).
On the PostgreSQL stack (Prefect's database and the records): on SQLite, Prefect's server took
most of 16 minutes to create the 10,000 runs, refusing many while its database was locked.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import httpx
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import State
from prefect.input.run_input import keyset_from_paused_state
from prefect.states import Suspended, to_state_create

from bench.common import Figures, Outcome, percentile, rss_mb, tree_rss_mb
from bench.cycles import at_review, queue_for, review_lines, seed_plan
from bench.people import LINK, open_form, post_answer
from bench.stack import BenchStack
from duyet.definition_files import definitions
from duyet.settings import PROJECT_ROOT, Settings
from flows.deployments import cycle_run_name, line_deployment_path
from notifications.message import prepare, wire
from records.cycles import attach_flow_run
from records.engine import session_scope
from records.models import Mail

BATCH = 100  # cycles per transaction, flow runs per bulk request (the API's limit)
SAMPLE = 20  # POSTs per repeat
REPEATS = 3
RETRIES = 10
ACTOR = "bench:hold"


@dataclass
class Held:
    cycles: list[str] = field(default_factory=list)
    sampled: set[str] = field(default_factory=set)
    create_s: float = 0.0
    refused: int = 0  # flow runs Prefect's server refused at first (its SQLite locked)


def _suspended() -> dict[str, Any]:
    """What `suspend_flow_run(wait_for_input=…, key="review-r1")` proposes."""
    state: State[Any] = Suspended(timeout_seconds=24 * 3600, pause_key="review-r1")
    keyset = {str(k): v for k, v in keyset_from_paused_state(state).items()}
    state.state_details.run_input_keyset = keyset
    return to_state_create(state).model_dump(mode="json")


async def _runs(
    stack: BenchStack, held: Held, plan_id: str, made: list[tuple[str, str]]
) -> list[str]:
    """Their flow runs, created suspended, 100 per request; run ids in `made`'s order."""
    async with get_client() as client:
        deployments = {
            code: str(
                (await client.read_deployment_by_name(line_deployment_path(plan_id, code))).id
            )
            for code in {code for _, code in made}
        }
    state = _suspended()
    by_code: dict[str, list[str]] = {}
    for cycle_id, code in made:
        by_code.setdefault(code, []).append(cycle_id)
    found: dict[str, str] = {}
    async with httpx.AsyncClient(base_url=stack.api_url, timeout=300) as api:
        for code, cycle_ids in by_code.items():
            left = list(cycle_ids)
            for attempt in range(RETRIES):
                # Prefect's SQLite refuses some of a batch while it is locked ("database is
                # locked", per run): those are sent again (the idempotency key keeps one each).
                body = [
                    {
                        "parameters": {"plan_id": plan_id, "code": code, "cycle_id": cycle_id},
                        "state": state,
                        "name": cycle_run_name(plan_id, code, 1),
                        "idempotency_key": f"cycle-{cycle_id}-first",
                    }
                    for cycle_id in left
                ]
                path = f"/deployments/{deployments[code]}/create_flow_run/bulk"
                answer = await api.post(path, json=body)
                answer.raise_for_status()
                results = answer.json()["results"]
                for cycle_id, run in zip(left, results, strict=True):
                    if run["status"] == "CREATED":
                        found[cycle_id] = run["flow_run_id"]
                left = [c for c in left if c not in found]
                if not left:
                    break
                held.refused += len(left)
                await asyncio.sleep(0.5 * (attempt + 1))
            if left:
                raise RuntimeError(f"{len(left)} flow runs of {code} not created")
    return [found[cycle_id] for cycle_id, _ in made]


def grow(stack: BenchStack, held: Held, target: int) -> None:
    """Up to `target` cycles held. Their records are made on a thread, batch after batch, while
    Prefect's server (a process of its own) creates the flow runs of the batches made; the same
    thread then attaches each batch to its runs, so that nothing but Prefect waits here."""
    plan_id = seed_plan(stack.settings).id
    codes = review_lines(stack.settings, least=2)  # a first answer leaves the stage waiting
    batches = [
        [codes[start // BATCH % len(codes)]] * min(BATCH, target - start)  # one bulk request
        for start in range(len(held.cycles), target, BATCH)
    ]
    began = time.monotonic()
    with ThreadPoolExecutor(1) as making:  # one writer: its tasks run in the order submitted
        records = [
            making.submit(at_review, stack.settings, batch, mark_sent=False, requests=False)
            for batch in batches
        ]
        attached = []
        try:
            for future in records:
                made = future.result()
                with stack.prefect():
                    runs = asyncio.run(_runs(stack, held, plan_id, made))
                attached.append(making.submit(_attach, stack.settings, made, runs))
            for done in attached:
                held.cycles += done.result()
        finally:
            making.shutdown(cancel_futures=True)  # after a failure, make no more
    held.create_s += time.monotonic() - began


def _attach(settings: Settings, made: list[tuple[str, str]], runs: list[str]) -> list[str]:
    """Attach each cycle of `made` to its run (`runs`, in order), as `start_cycle` does, in
    one transaction; the cycle ids."""
    with session_scope(settings.database_url) as session:
        for (cycle_id, _), run_id in zip(made, runs, strict=True):
            attach_flow_run(session, cycle_id=cycle_id, flow_run_id=run_id, actor=ACTOR)
    return [cycle_id for cycle_id, _ in made]


def first_link(stack: BenchStack, cycle_id: str) -> str:
    """The link of the cycle's first review request, as it went out in the mail."""
    settings = stack.settings
    with session_scope(settings.database_url) as session:
        mail = (
            session.query(Mail)
            .filter(Mail.cycle_id == cycle_id, Mail.kind == "review_request")
            .order_by(Mail.id)
            .first()
        )
        assert mail is not None
        directory = definitions(settings).directory
        message = prepare(session, mail, settings=settings, directory=directory)
    body = message_from_bytes(wire(message), policy=policy.default).get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return str(LINK.findall(str(body.get_content()))[0])


async def _posts(stack: BenchStack, cycle_ids: list[str]) -> list[float]:
    took = []
    async with httpx.AsyncClient(timeout=60) as http:
        for cycle_id in cycle_ids:
            form = await open_form(http, first_link(stack, cycle_id))
            posted = await post_answer(http, form)
            if posted.status != 200:
                raise RuntimeError(f"POST on a held cycle: {posted.status}")
            took.append(posted.seconds * 1000)
    return took


def status_ms(stack: BenchStack) -> tuple[float, int]:
    """`duyet status --json` as the Office runs it; (milliseconds, cycles listed)."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "duyet.cli", "status", "--json"],
        env=stack.up.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
        timeout=600,
    )
    took = (time.monotonic() - began) * 1000
    return took, len(json.loads(done.stdout)["cycles"])


def level(stack: BenchStack, held: Held, rng: random.Random, repeats: int) -> Outcome:
    runs: list[Figures] = []
    listed = 0
    for _ in range(repeats):
        fresh = [c for c in held.cycles if c not in held.sampled]
        chosen = rng.sample(fresh, min(SAMPLE, len(fresh)))
        held.sampled.update(chosen)
        queue_for(stack.settings, chosen, mark_sent=True)  # their links, as the mail had them
        posts = asyncio.run(_posts(stack, chosen))
        took, listed = status_ms(stack)
        runs.append(
            {
                "runner_rss_mb": tree_rss_mb(stack.pid("worker")),
                "portal_rss_mb": rss_mb(stack.pid("portal")),
                "post_p95_ms": percentile(posts, 95),
                "post_p50_ms": percentile(posts, 50),
                "status_ms": took,
                "sender_rss_mb": rss_mb(stack.pid("sender")),
                "prefect_server_rss_mb": rss_mb(stack.pid("prefect-server")),
            }
        )
    info = {
        "n": len(held.cycles),
        "db": stack.db,
        "status_lists": listed,
        "create_s": round(held.create_s, 1),
        "runs_refused_then_retried": held.refused,
    }
    return Outcome(runs, info=info)


def measure(stack: BenchStack, *, quick: bool = False) -> dict[str, Outcome]:
    sizes = (20, 100) if quick else (100, 1000, 10_000)
    held, rng = Held(), random.Random(10)
    found = {}
    for size in sizes:
        grow(stack, held, size)
        found[str(size)] = level(stack, held, rng, 1 if quick else REPEATS)
    return found
