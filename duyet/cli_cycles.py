"""`duyet deploy|start|status|cancel|sweep`: the Office's commands over review cycles."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import mimetypes
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from prefect.client.orchestration import get_client
from rich.console import Console
from rich.table import Table

from definitions.loader import load_plan
from definitions.plan import Plan
from duyet.console import fail
from duyet.cycle_views import views_of
from duyet.definition_files import definitions
from duyet.engine import CycleView
from duyet.flow_run_states import state_names
from duyet.messages import CLI_CYCLES as M
from duyet.messages import STAGES
from duyet.records_bridge import cli_actor, records_transaction
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from flows.control import Draft, cancel_cycle_everywhere, start_cycle
from flows.deploy import apply
from flows.deployments import Placement, all_deployments, line_deployment_path, prefect_yaml
from notifications.recipients import unit_name
from records.cycle_reads import cycles_of_line, open_cycles
from records.plans import latest_plan, record_lines_deployed

PlanOpt = Annotated[str | None, typer.Option("--plan", help=M["plan.help"])]
JsonOpt = Annotated[bool, typer.Option("--json", help=M["json.help"])]


def _plans(settings: Settings) -> list[Plan]:
    return [load_plan(p) for p in sorted(settings.plans_dir.glob("*.yaml"))]


def _plan(settings: Settings, plan_id: str | None, code: str | None = None) -> Plan:
    """The plan `--plan` names; else the only plan, or the only one with line `code`."""
    plans = _plans(settings)
    if plan_id is not None:
        for plan in plans:
            if plan.id == plan_id:
                return plan
        raise fail(M["plan-unknown"].format(plan=plan_id))
    if code is not None and len(plans) > 1:
        plans = [plan for plan in plans if any(line.code == code for line in plan.lines)]
        if not plans:
            raise fail(M["line-nowhere"].format(code=code))
        if len(plans) > 1:
            ids = ", ".join(plan.id for plan in plans)
            raise fail(M["line-ambiguous"].format(code=code, count=len(plans), plans=ids))
    if len(plans) != 1:
        ids = ", ".join(plan.id for plan in plans)
        raise fail(M["plan-ambiguous"].format(count=len(plans), plans=ids))
    return plans[0]


def deploy(
    prefect_yaml_path: Annotated[
        Path, typer.Option("--prefect-yaml", help=M["prefect-yaml.help"])
    ] = PROJECT_ROOT / "prefect.yaml",
    yaml_only: Annotated[bool, typer.Option("--yaml-only", help=M["yaml-only.help"])] = False,
) -> None:
    """Tạo deployment cho mọi dòng của mọi kế hoạch đã nhập, và ghi lại prefect.yaml."""
    settings = get_settings()
    plans = _plans(settings)
    specs = all_deployments(plans)
    placement = Placement.of(settings)
    prefect_yaml_path.write_text(prefect_yaml(specs, placement), encoding="utf-8")
    if yaml_only:
        Console().print(M["yaml-written"].format(count=len(specs), path=prefect_yaml_path))
        return

    async def register() -> dict[str, Any]:
        async with get_client() as client:
            return await apply(client, specs, project_dir=PROJECT_ROOT, placement=placement)

    ids = asyncio.run(register())
    with records_transaction(settings) as session:
        for plan in plans:
            latest = latest_plan(session, plan_key=plan.id)
            if latest is None:
                raise fail(M["plan-not-recorded"].format(plan=plan.id))
            record_lines_deployed(
                session,
                plan_key=plan.id,
                version=latest.version,
                deployments={
                    line.code: str(ids[line_deployment_path(plan.id, line.code)])
                    for line in plan.lines
                },
                actor=cli_actor(),
            )
    Console().print(M["deployed"].format(count=len(ids), path=prefect_yaml_path))


def start(
    code: Annotated[str | None, typer.Argument(help=M["code.help"])] = None,
    draft: Annotated[Path | None, typer.Option("--draft", help=M["draft.help"])] = None,
    section: Annotated[str | None, typer.Option("--section", help=M["section.help"])] = None,
    due_before: Annotated[
        dt.datetime | None, typer.Option("--due-before", formats=["%Y-%m-%d"], help=M["due.help"])
    ] = None,
    plan_id: PlanOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mở chu trình duyệt cho một dòng (hoặc nhiều dòng) của kế hoạch."""
    settings = get_settings()
    plan = _plan(settings, plan_id, code)
    if code is not None:
        lines = [plan.line(code)] if any(line.code == code for line in plan.lines) else []
        if not lines:
            raise fail(M["line-unknown"].format(code=code, plan=plan.id))
    elif section is not None or due_before is not None:
        lines = [
            line
            for line in plan.lines
            if (section is None or line.section == section)
            and (
                due_before is None
                or (line.timeline.due is not None and line.timeline.due < due_before.date())
            )
        ]
    else:
        raise fail(M["start-what"])
    attached = None
    if draft is not None:
        media_type = mimetypes.guess_type(draft.name)[0] or "application/octet-stream"
        attached = Draft(content=draft.read_bytes(), filename=draft.name, media_type=media_type)

    async def open_all() -> list[tuple[str, str, str]]:
        started = []
        for line in lines:
            cycle_id, run_id = await start_cycle(
                settings, plan_id=plan.id, code=line.code, actor=cli_actor(), draft=attached
            )
            started.append((line.code, cycle_id, run_id))
        return started

    started = asyncio.run(open_all())
    if as_json:
        payload = [{"code": c, "cycle_id": i, "flow_run_id": r} for c, i, r in started]
        sys.stdout.write(json.dumps({"started": payload}, ensure_ascii=False, indent=2) + "\n")
        return
    for line_code, cycle_id, run_id in started:
        Console().print(M["started"].format(code=line_code, cycle=cycle_id, run=run_id))


def _views(settings: Settings, code: str | None, plan_id: str | None) -> list[CycleView]:
    defs, now = definitions(settings), dt.datetime.now(dt.UTC)
    with records_transaction(settings) as session:  # one read for them all, not one a cycle
        if code is None:
            cycles = open_cycles(session, plan_key=plan_id)
        else:
            plan = _plan(settings, plan_id, code)
            cycles = cycles_of_line(session, plan_key=plan.id, line_code=code)
        return views_of(session, defs, cycles, now=now)


async def _states(run_ids: list[str | None]) -> dict[str, str]:
    async with get_client() as client:
        return await state_names(client, [run_id for run_id in run_ids if run_id is not None])


def status(
    code: Annotated[str | None, typer.Argument(help=M["code.help"])] = None,
    plan_id: PlanOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tình trạng các chu trình: giai đoạn, vòng, hạn, ai chưa trả lời."""
    settings = get_settings()
    views = _views(settings, code, plan_id)
    try:
        states = asyncio.run(_states([v.flow_run_id for v in views]))
    except Exception:  # Prefect unreachable: the records still answer
        states = {}
    if as_json:
        cycles = [
            {
                "id": v.cycle_id,
                "plan": v.plan_id,
                "code": v.code,
                "stage": "done" if v.status != "open" else v.stage,
                "round": v.round,
                "flow_run_id": v.flow_run_id,
                "state": states.get(v.flow_run_id or ""),
                "decisions": [
                    {
                        "unit": a.unit,
                        "stage": a.stage,
                        "round": a.round,
                        "decision": a.verdict.value,
                        "at": a.at.isoformat(),
                    }
                    for a in v.answers
                ],
            }
            for v in views
        ]
        sys.stdout.write(json.dumps({"cycles": cycles}, ensure_ascii=False, indent=2) + "\n")
        return
    _status_table(settings, views, states)


def _status_table(settings: Settings, views: list[CycleView], states: dict[str, str]) -> None:
    defs = definitions(settings)
    now = dt.datetime.now(dt.UTC)
    table = Table(title=M["status.title"], title_justify="left")
    several = len({v.plan_id for v in views}) > 1  # then each row names its plan
    for header in ([M["status.plan"]] if several else []) + M["status.columns"]:
        table.add_column(header, overflow="fold")
    for v in views:
        deadline = v.stage_deadline.astimezone(defs.timezone) if v.stage_deadline else None
        overdue = deadline is not None and now > deadline and v.status == "open"
        waiting = ", ".join(unit_name(defs.units(v.plan_id), u) for u in v.missing)
        table.add_row(
            *([v.plan_id] if several else []),
            v.code,
            STAGES[v.stage] if v.status == "open" else M[f"status.{v.status}"],
            str(v.round),
            (deadline.strftime("%d/%m/%Y") if deadline else "—") + (" ⚠" if overdue else ""),
            waiting or "—",
            states.get(v.flow_run_id or "", "—"),
        )
    Console().print(table)


def cancel(
    code: Annotated[str, typer.Argument(help=M["code.help"])],
    reason: Annotated[str, typer.Option("--reason", help=M["reason.help"])] = "",
    plan_id: PlanOpt = None,
) -> None:
    """Rút chu trình đang mở của một dòng: đường dẫn hết hiệu lực, các đơn vị được báo."""
    settings = get_settings()
    plan = _plan(settings, plan_id, code)
    views = [v for v in _views(settings, code, plan.id) if v.status == "open"]
    if not views:
        raise fail(M["nothing-open"].format(code=code))
    for view in views:
        asyncio.run(
            cancel_cycle_everywhere(
                settings, view.cycle_id, actor=cli_actor(), reason=reason or M["no-reason"]
            )
        )
        Console().print(M["cancelled"].format(code=code, cycle=view.cycle_id))
