"""One Prefect deployment per plan line, one for each plan's periodic report, plus the sweeper;
and the prefect.yaml that says so."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from definitions.plan import Plan, PlanLine, ReportingDate
from definitions.timeline import Recurrence
from duyet.settings import Settings

REVIEW_FLOW = "review-cycle"
REVIEW_ENTRYPOINT = "flows/review_cycle.py:review_cycle"
SWEEPER_FLOW = "sweeper"
SWEEPER_ENTRYPOINT = "flows/sweeper.py:sweeper"
REPORT_FLOW = "progress-report"
REPORT_ENTRYPOINT = "flows/reports.py:progress_report"
WORK_POOL = "duyet"
TIMEZONE = "Asia/Ho_Chi_Minh"

# A recurring line opens a cycle at the start of each period, at 07:00 office time.
_RRULE = {
    Recurrence.MONTHLY: "FREQ=MONTHLY;BYMONTHDAY=1",
    Recurrence.QUARTERLY: "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1",
    Recurrence.SEMIANNUAL: "FREQ=MONTHLY;INTERVAL=6;BYMONTHDAY=1",
    Recurrence.ANNUAL: "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=2",
}


@dataclass(frozen=True)
class Schedule:
    rrule: str | None = None
    cron: str | None = None
    timezone: str = TIMEZONE
    parameters: dict[str, Any] = field(default_factory=dict)  # of the runs it makes only

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"rrule": self.rrule} if self.rrule else {"cron": self.cron}
        found |= {"timezone": self.timezone, "active": True}
        return found | ({"parameters": self.parameters} if self.parameters else {})


@dataclass(frozen=True)
class DeploymentSpec:
    flow_name: str
    name: str
    entrypoint: str
    description: str
    tags: list[str]
    parameters: dict[str, Any]
    schedules: list[Schedule] = field(default_factory=list)
    concurrency_limit: int | None = None
    forked: bool = True  # started through the fork server (`Placement.launch_command`)

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"


@dataclass(frozen=True)
class Placement:
    """Where the runs go and how many at once: the work pool's concurrency limit, each line's,
    and the folder workers run the flows from (a git checkout at the same path on every worker
    machine; None: the folder the deployments are made from)."""

    pool_concurrency: int | None = None
    line_concurrency: int | None = None
    checkout_dir: Path | None = None
    worker_python: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> Placement:
        return cls(
            settings.pool_concurrency,
            settings.line_concurrency,
            settings.checkout_dir,
            settings.worker_python,
        )

    def launch_command(self) -> str:
        """The command the process worker starts each flow run with: the launcher, which has
        the fork server (`duyet.forkserver`) fork a warm child, or runs Prefect's engine."""
        return shlex.join([self.worker_python or sys.executable, "-m", "duyet.launch"])

    def job_variables(self, spec: DeploymentSpec) -> dict[str, Any]:
        return {"command": self.launch_command()} if spec.forked else {}

    def concurrency(self, spec: DeploymentSpec) -> int | None:
        """The spec's own limit (the sweeper's 1), else the line limit for a review cycle."""
        if spec.concurrency_limit is not None or spec.flow_name != REVIEW_FLOW:
            return spec.concurrency_limit
        return self.line_concurrency

    def directory(self, default: str) -> str:
        return str(self.checkout_dir) if self.checkout_dir else default


LOCAL = Placement()  # one machine: no limits, runs from the folder the deployments were made in


def line_schedule(line: PlanLine, year: int) -> list[Schedule]:
    """Cycles opened by the calendar for a recurring line, inside the plan year only."""
    recurrence = line.timeline.recurrence
    if recurrence is None:
        return []
    start = dt.datetime(year, 1, 1, 7, 0)
    until = dt.datetime(year, 12, 31, 23, 59, 59)
    rule = (
        f"DTSTART:{start:%Y%m%dT%H%M%S}\n"
        f"RRULE:{_RRULE[recurrence]};BYHOUR=7;BYMINUTE=0;UNTIL={until:%Y%m%dT%H%M%S}"
    )
    return [Schedule(rrule=rule)]


def line_deployment_name(plan_id: str, code: str) -> str:
    """A line's deployment name, `2.2.đ@<plan id>`: two plans may share line codes, and Prefect
    refuses '/' in names (`prefect.types.names.BANNED_CHARACTERS`)."""
    return f"{code}@{plan_id}"


def line_deployment_path(plan_id: str, code: str) -> str:
    """What `run_deployment` and `read_deployment_by_name` take: `review-cycle/2.2.đ@<plan id>`."""
    return f"{REVIEW_FLOW}/{line_deployment_name(plan_id, code)}"


def cycle_run_name(plan_id: str, code: str, round: int) -> str:
    """The name of a cycle's flow run, `2.2.đ@<plan id> · vòng 2`."""
    return f"{line_deployment_name(plan_id, code)} · vòng {round}"


def line_deployment(plan: Plan, line: PlanLine) -> DeploymentSpec:
    """The deployment of one plan line: named by code and plan, tagged with plan, section, lead."""
    tags = [f"plan:{plan.id}", f"section:{line.section}"]
    tags += [f"lead:{unit}" for unit in line.lead if " " not in unit]
    if line.timeline.recurrence:
        tags.append(f"recurrence:{line.timeline.recurrence}")
    return DeploymentSpec(
        flow_name=REVIEW_FLOW,
        name=line_deployment_name(plan.id, line.code),
        entrypoint=REVIEW_ENTRYPOINT,
        description=line.title,
        tags=tags,
        parameters={"plan_id": plan.id, "code": line.code},
        schedules=line_schedule(line, plan.year),
    )


def report_schedule(date: ReportingDate) -> Schedule:
    """One run at 07:00 office time on the reporting date, naming its period (a late run still
    reports on the period it was scheduled for)."""
    start = dt.datetime.combine(date.due, dt.time(7, 0))
    rule = f"DTSTART:{start:%Y%m%dT%H%M%S}\nRRULE:FREQ=DAILY;COUNT=1"
    return Schedule(rrule=rule, parameters={"period": date.period})


def report_deployment(plan: Plan) -> DeploymentSpec:
    """The plan's periodic report (báo cáo định kỳ), on each reporting date the plan sets."""
    return DeploymentSpec(
        flow_name=REPORT_FLOW,
        name=plan.id,
        entrypoint=REPORT_ENTRYPOINT,
        description=f"Báo cáo định kỳ kết quả thực hiện: {plan.title}",
        tags=[f"plan:{plan.id}", "duyet:report"],
        parameters={"plan_id": plan.id},
        schedules=[report_schedule(date) for date in plan.reporting_dates],
    )


def sweeper_deployment(every_minutes: int = 5) -> DeploymentSpec:
    return DeploymentSpec(
        flow_name=SWEEPER_FLOW,
        name="sweeper",
        entrypoint=SWEEPER_ENTRYPOINT,
        description="Nhắc hạn, chuyển cấp, áp dụng quy tắc im lặng và đối soát các chu trình.",
        tags=["duyet:sweeper"],
        parameters={},
        schedules=[Schedule(cron=f"*/{every_minutes} * * * *")],
        concurrency_limit=1,
    )


def all_deployments(plans: list[Plan]) -> list[DeploymentSpec]:
    specs = [line_deployment(plan, line) for plan in plans for line in plan.lines]
    reports = [report_deployment(plan) for plan in plans if plan.reporting_dates]
    return [*specs, *reports, sweeper_deployment()]


def prefect_yaml(specs: list[DeploymentSpec], placement: Placement = LOCAL) -> str:
    """prefect.yaml for `prefect deploy --all`: shared settings as anchors, one entry a line."""
    header = (
        "# Generated by `duyet deploy` from definitions/plans/*.yaml: edit the plan, not this.\n"
        "# `prefect deploy --all`, run from the project folder, creates the same deployments.\n"
    )
    shared = {
        "name": "duyet",
        "prefect-version": "3.9.1",
        "pull": [
            {
                "prefect.deployments.steps.set_working_directory": {
                    "directory": placement.directory("{{ $PWD }}")
                }
            }
        ],
    }
    anchors = (
        "definitions:\n"
        "  work_pool: &work_pool\n"
        f"    name: {WORK_POOL}\n"
        "    work_queue_name: default\n"
        "    job_variables: {}\n"
    )
    entries = []
    for spec in specs:
        body: dict[str, Any] = {
            "name": spec.name,
            "entrypoint": spec.entrypoint,
            "description": spec.description,
            "tags": spec.tags,
            "parameters": spec.parameters,
            "schedules": [s.as_dict() for s in spec.schedules],
        }
        if (limit := placement.concurrency(spec)) is not None:
            body["concurrency_limit"] = limit
        text = yaml.safe_dump(body, allow_unicode=True, sort_keys=False, width=100)
        lines = text.rstrip("\n").split("\n")
        entry = "- " + lines[0] + "".join(f"\n  {line}" for line in lines[1:])
        entries.append(entry + "\n  work_pool: *work_pool")
    return (
        header
        + yaml.safe_dump(shared, allow_unicode=True, sort_keys=False)
        + anchors
        + "deployments:\n"
        + "\n".join(entries)
        + "\n"
    )
