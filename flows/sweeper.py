"""The sweeper: what must happen while every cycle sleeps — reminders before a deadline,
escalation after it, the silence rule, reconciling Prefect with the records, and anchoring the
audit chain's head on the Prefect server.

Scheduled every few minutes; each pass is idempotent (the outbox keys reminders by day count and
escalations by level), so a pass that runs twice, or late, sends nothing twice.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from duyet.settings import get_settings
from flows.control import reconcile
from tasks.anchors import anchor_audit_chain
from tasks.followups import FollowUpReport, follow_up


@task(cache_policy=NO_CACHE, persist_result=False, retries=2, retry_delay_seconds=5)
async def reconcile_runs(now: dt.datetime) -> list[str]:
    """Resume, restart or start the runs the records say should be moving."""
    done = await reconcile(get_settings(), now=now)
    return [f"{r.cycle_id}:{r.action}" for r in done]


@flow(name="sweeper", log_prints=False)
async def sweeper(now: dt.datetime | None = None) -> dict[str, object]:
    """One pass over every open cycle; `now` fixes the clock (tests, replays)."""
    moment = now or dt.datetime.now(dt.UTC)
    report: FollowUpReport = follow_up(moment)
    reconciled = await reconcile_runs(moment)
    anchored = await anchor_audit_chain()
    get_run_logger().info("sweeper: %s; reconciled %s; anchored %s", report, reconciled, anchored)
    return {"follow_up": report.model_dump(), "reconciled": reconciled, "anchored": anchored}
