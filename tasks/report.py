"""The task that issues a plan's periodic report: one transaction, retried, keyed by plan,
period and flow run so that a replay of the run does not even open the database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from prefect import task
from prefect.context import TaskRunContext
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict

from duyet.definition_files import definitions
from duyet.settings import get_settings
from publishing.periods import choose_period
from publishing.reporting import issue_report
from records.engine import session_scope

ACTOR = "flow:progress-report"


class ReportRequest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    plan_id: str
    period: str  # as the plan names it: `Quý I`


class ReportIssued(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    publication_id: str
    number: str  # `Số: 01/BC-SVHTTDL`
    found: bool  # issued by an earlier run


def _key(_: TaskRunContext, parameters: dict[str, Any]) -> str:
    # The run, not only plan and period: a new run asks the records again (issue_report finds
    # the report there), and a result cached against another records database is never reused.
    request: ReportRequest = parameters["request"]
    return f"report-{request.plan_id}-{request.period}-{flow_run.get_id()}"


@task(persist_result=True, cache_key_fn=_key, retries=3, retry_delay_seconds=2)
def issue_progress_report(request: ReportRequest) -> ReportIssued:
    """Issue (or find) the report, store its annex and queue its mail, in one transaction."""
    settings = get_settings()
    defs = definitions(settings)
    plan = defs.plan(request.plan_id)
    now = dt.datetime.now(dt.UTC)
    period = choose_period(plan, request.period, today=defs.today(now))
    with session_scope(settings.database_url) as session:
        issued = issue_report(session, settings, defs, plan, period=period, now=now, actor=ACTOR)
        return ReportIssued(
            publication_id=issued.record.id, number=issued.number_line, found=issued.found
        )
