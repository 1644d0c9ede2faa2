"""A reviewer's link page (GET /r/{token}) with 20 clients at once, each asking again as soon as
it has its answer, against a bare FastAPI handler at the same path served by the same uvicorn
command (`python -m uvicorn … --factory --host 127.0.0.1 --port N`), in the same run.

The links are those of review requests of cycles made at review (`bench.cycles`): each GET
checks the link, writes `link.opened` to the audit chain and renders the document page.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.common import Figures, Outcome, free_port, percentile, ratio, settle, wait_for
from bench.cycles import at_review, review_lines
from bench.hold import first_link
from bench.stack import BenchStack
from duyet.settings import PROJECT_ROOT
from duyet.supervisor import http_ok

CLIENTS = 20


@contextmanager
def bare_server(stack: BenchStack) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.bare_app:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port)]  # as `duyet up` runs the portal
    with (stack.logs / "bare-app.log").open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=stack.up.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_ok(f"{url}/healthz"), timeout=60, what="the bare app")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


async def _load(urls: list[str], per_client: int) -> tuple[list[float], int]:
    """Each of `CLIENTS` clients GETs its share of `urls` in turn; (latencies in ms, non-200s)."""
    took: list[float] = []
    failed = 0

    async def client(index: int) -> None:
        nonlocal failed
        async with httpx.AsyncClient(timeout=60) as http:
            for i in range(per_client):
                url = urls[(index + i * CLIENTS) % len(urls)]
                began = time.perf_counter()
                answer = await http.get(url)
                took.append((time.perf_counter() - began) * 1000)
                failed += answer.status_code != 200

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    return took, failed


def measure(stack: BenchStack, *, quick: bool = False) -> Outcome:
    per_client, repeats = (5, 1) if quick else (25, 3)
    codes = review_lines(stack.settings)[:CLIENTS]
    made = at_review(stack.settings, codes, mark_sent=True)
    links = [first_link(stack, cycle_id) for cycle_id, _ in made]
    runs: list[Figures] = []
    with bare_server(stack) as bare:
        bare_links = [f"{bare}/r/{link.rsplit('/', 1)[1]}" for link in links]
        asyncio.run(_load(links, 1))  # warm both up: first requests import and connect
        asyncio.run(_load(bare_links, 1))
        busy = settle()  # a latency tail measured while the new stack still works is its own
        for _ in range(repeats):
            ours, failed = asyncio.run(_load(links, per_client))
            theirs, _ = asyncio.run(_load(bare_links, per_client))
            if failed:
                raise RuntimeError(f"{failed} link pages did not answer 200")
            runs.append(
                {
                    "p95_ms": percentile(ours, 95),
                    "bare_p95_ms": percentile(theirs, 95),
                    "ratio": ratio(percentile(ours, 95), percentile(theirs, 95)),
                    "p50_ms": percentile(ours, 50),
                    "bare_p50_ms": percentile(theirs, 50),
                }
            )
    info = {"clients": CLIENTS, "requests_per_repeat": CLIENTS * per_client, "busy_before": busy}
    return Outcome(runs, info=info)
