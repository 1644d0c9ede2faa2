"""Deployment specs and prefect.yaml, from the seed plan: pure, no server."""

from __future__ import annotations

import datetime as dt

import yaml
from dateutil.rrule import rrulestr

from definitions.loader import load_plan
from duyet.settings import PROJECT_ROOT
from flows.deployments import (
    all_deployments,
    cycle_run_name,
    line_deployment,
    line_deployment_path,
    prefect_yaml,
    report_deployment,
)

PLANS_DIR = PROJECT_ROOT / "definitions" / "plans"
PLAN = load_plan(PLANS_DIR / "ke-hoach-cchc-2023-svhttdl.yaml")
OTHER = load_plan(PLANS_DIR / "ke-hoach-cchc-2024-stp.yaml")  # Sở Tư pháp: codes overlap
SHIPPED = [load_plan(path) for path in sorted(PLANS_DIR.glob("*.yaml"))]


def test_one_deployment_per_line_plus_the_report_and_the_sweeper() -> None:
    specs = all_deployments([PLAN])
    assert len(specs) == 46
    names = [s.full_name for s in specs]
    assert f"review-cycle/2.2.đ@{PLAN.id}" in names and "sweeper/sweeper" in names
    assert line_deployment_path(PLAN.id, "2.2.đ") in names
    assert f"progress-report/{PLAN.id}" in names
    line = line_deployment(PLAN, PLAN.line("2.2.đ"))
    assert line.parameters == {"plan_id": PLAN.id, "code": "2.2.đ"}
    assert line.description == PLAN.line("2.2.đ").title
    assert {"section:2", "lead:van-phong", f"plan:{PLAN.id}"} <= set(line.tags)


def test_recurring_lines_open_a_cycle_per_period_inside_the_plan_year() -> None:
    monthly = line_deployment(PLAN, PLAN.line("1.4.c")).schedules
    assert len(monthly) == 1 and monthly[0].rrule is not None
    assert "FREQ=MONTHLY;BYMONTHDAY=1" in monthly[0].rrule
    assert "DTSTART:20230101T070000" in monthly[0].rrule and "UNTIL=20231231" in monthly[0].rrule
    twice = line_deployment(PLAN, PLAN.line("4.3.b")).schedules[0].rrule
    assert twice is not None and "INTERVAL=6" in twice
    assert line_deployment(PLAN, PLAN.line("1.1")).schedules == []


def test_the_report_runs_once_on_each_reporting_date_at_seven() -> None:
    spec = report_deployment(PLAN)
    assert spec.full_name == f"progress-report/{PLAN.id}"
    assert spec.entrypoint == "flows/reports.py:progress_report"
    assert spec.parameters == {"plan_id": PLAN.id}
    assert len(spec.schedules) == 4
    runs = []
    for schedule in spec.schedules:
        assert schedule.rrule is not None and "COUNT=1" in schedule.rrule
        assert schedule.timezone == "Asia/Ho_Chi_Minh"
        [run] = list(rrulestr(schedule.rrule))
        runs.append((run, schedule.parameters["period"]))
    assert runs == [
        (dt.datetime(2023, 3, 5, 7, 0), "Quý I"),
        (dt.datetime(2023, 6, 5, 7, 0), "6 tháng"),
        (dt.datetime(2023, 9, 5, 7, 0), "Quý III"),
        (dt.datetime(2023, 12, 5, 7, 0), "Năm"),
    ]


def test_two_departments_plans_side_by_side_do_not_collide() -> None:
    shared = {line.code for line in PLAN.lines} & {line.code for line in OTHER.lines}
    assert {"1.1", "1.2", "2.1.a", "2.1.b"} <= shared
    specs = all_deployments([PLAN, OTHER])
    names = [s.full_name for s in specs]
    assert len(names) == len(set(names)) == len(PLAN.lines) + len(OTHER.lines) + 3
    for plan in (PLAN, OTHER):
        spec = line_deployment(plan, plan.line("1.1"))
        assert spec.name == f"1.1@{plan.id}" and f"plan:{plan.id}" in spec.tags
        assert spec.parameters == {"plan_id": plan.id, "code": "1.1"}
        assert not set("/%&<>") & set(spec.name)  # what Prefect refuses in a name
    assert {f"progress-report/{PLAN.id}", f"progress-report/{OTHER.id}"} <= set(names)
    assert cycle_run_name(OTHER.id, "2.1.a", 2) == f"2.1.a@{OTHER.id} · vòng 2"


def test_prefect_yaml_is_complete_and_matches_the_committed_file() -> None:
    text = prefect_yaml(all_deployments(SHIPPED))
    data = yaml.safe_load(text)
    assert data["name"] == "duyet" and data["prefect-version"] == "3.9.1"
    assert len(data["deployments"]) == sum(len(plan.lines) + 1 for plan in SHIPPED) + 1
    for deployment in data["deployments"]:
        assert deployment["entrypoint"].startswith("flows/")
        assert deployment["work_pool"]["name"] == "duyet"
        assert None not in deployment.values()
    assert "&work_pool" in text and "*work_pool" in text  # shared settings by anchor
    [report] = [d for d in data["deployments"] if d["name"] == PLAN.id]
    assert [s["parameters"] for s in report["schedules"]] == [
        {"period": "Quý I"},
        {"period": "6 tháng"},
        {"period": "Quý III"},
        {"period": "Năm"},
    ]
    assert (PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8") == text
