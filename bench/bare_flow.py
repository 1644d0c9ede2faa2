"""The baseline of the resume measure: Prefect alone. A flow that suspends waiting for input,
exactly as `review-cycle` does, and once resumed sends one mail with aiosmtplib: its run ends,
like a cycle's step, at "mail accepted by SMTP". Deployed on the same `duyet` work pool."""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib
from prefect import flow
from prefect.flow_runs import suspend_flow_run
from prefect.runtime import flow_run
from pydantic import BaseModel

BARE_FLOW = "bench-bare"
BARE_ENTRYPOINT = "bench/bare_flow.py:bare_cycle"
RUN_HEADER = "X-Bench-Run"


class Go(BaseModel):
    note: str = ""


async def _send(port: int, run_id: str) -> None:
    message = EmailMessage()
    message["From"] = "bench@bench.example"
    message["To"] = "reviewer@bench.example"
    message["Subject"] = "next stage"
    message[RUN_HEADER] = run_id
    message.set_content("The next stage's request.")
    await aiosmtplib.send(message, hostname="127.0.0.1", port=port)


@flow(name=BARE_FLOW, persist_result=True)
def bare_cycle(smtp_port: int) -> str:
    """Suspend until resumed, then send one mail."""
    suspend_flow_run(wait_for_input=Go, key="wait")
    run_id = str(flow_run.get_id())
    asyncio.run(_send(smtp_port, run_id))
    return run_id
