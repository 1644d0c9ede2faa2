"""The periodic report (báo cáo định kỳ) of a plan: on each reporting date the plan sets, every
line's status compiled into a signed Báo cáo with its annex, sent to the Office and the board."""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger

from duyet.definition_files import definitions
from duyet.settings import get_settings
from publishing.periods import choose_period
from tasks.report import ReportRequest, issue_progress_report


@flow(name="progress-report", log_prints=False)
def progress_report(plan_id: str, period: str | None = None) -> str:
    """Issue the report of `period` (None: the reporting date due next, else the last one);
    return its number line (`Số: 01/BC-SVHTTDL`)."""
    defs = definitions(get_settings())
    plan = defs.plan(plan_id)
    chosen = choose_period(plan, period, today=defs.today(dt.datetime.now(dt.UTC)))
    issued = issue_progress_report(ReportRequest(plan_id=plan.id, period=chosen.period))
    get_run_logger().info(
        "progress-report %s %s: %s%s",
        plan.id,
        chosen.period,
        issued.number,
        " (issued before)" if issued.found else "",
    )
    return issued.number
