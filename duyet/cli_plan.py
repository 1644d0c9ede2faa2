"""`duyet plan …`: import a plan document, lint it, show an imported plan."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from definitions.findings import Finding, Severity
from definitions.importer import import_file
from definitions.lint import all_findings, has_errors
from definitions.loader import (
    DefinitionError,
    load_plan,
    load_processes,
    load_units,
    save_plan,
)
from definitions.plan import UNITS_DEFAULT, Plan
from definitions.sources import NotAPlan
from duyet.console import fail
from duyet.messages import CLI_PLAN as M
from duyet.records_bridge import cli_actor, record_import
from duyet.settings import get_settings
from records.errors import RecordError

plan_app = typer.Typer(help="Nhập, kiểm tra và xem kế hoạch.", no_args_is_help=True)

PathArg = Annotated[Path, typer.Argument(help="Kế hoạch: tệp .txt trích từ Word hoặc .docx")]
UnitsOpt = Annotated[
    Path | None,
    typer.Option(
        "--units", help="Danh mục đơn vị, trong thư mục definitions (mặc định units.yaml)"
    ),
]


def _import(path: Path, units: Path | None, plan_id: str | None = None) -> Plan:
    settings = get_settings()
    try:
        directory = load_units(units or settings.units_path)
        processes = load_processes(settings.processes_dir)
        return import_file(path, directory, plan_id=plan_id, processes=processes)
    except (NotAPlan, DefinitionError) as exc:
        raise fail(escape(str(exc))) from exc


def _units_name(units: Path | None, root: Path) -> str:
    """The unit directory as the plan names it: its path inside the definitions folder."""
    if units is None:
        return UNITS_DEFAULT
    try:
        return units.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise fail(escape(M["units-outside"].format(path=units, root=root))) from None


def _duplicate_code(plan: Plan) -> str | None:
    """Why the plan cannot be recorded: two lines with one code (the records key lines by it)."""
    seen: dict[str, int] = {}
    for line in plan.lines:
        if line.code in seen:
            message: str = M["duplicate-line"]
            return message.format(code=line.code, line=line.source_line, first=seen[line.code])
        seen[line.code] = line.source_line
    return None


def plan_json(plan: Plan) -> dict[str, Any]:
    """The `--json` shape: the plan header, its lines and plan-level warnings."""
    return {
        "plan": {
            "title": plan.title,
            "issuer": plan.issuer,
            "year": plan.year,
            "number": plan.number,
        },
        "lines": [
            {
                "code": line.code,
                "section": line.section,
                "title": line.title,
                "lead_text": line.lead_text,
                "partners_text": line.partners_text,
                "product_text": line.product_text,
                "lead": line.lead,
                "partners": line.partners,
                "products": line.products,
                "timeline": {
                    "text": line.timeline.text,
                    "due": line.timeline.due.isoformat() if line.timeline.due else None,
                    "milestones": [d.isoformat() for d in line.timeline.milestones],
                    "recurrence": line.timeline.recurrence,
                },
                "warnings": [str(w) for w in line.warnings],
            }
            for line in plan.lines
        ],
        "warnings": [str(w) for w in plan.warnings],
    }


def print_summary(plan: Plan, console: Console) -> None:
    # Everything read from the plan is shown as text, never as Rich markup: a title holding
    # "[/]" would stop the command, "[b]" would vanish.
    table = Table(title=escape(plan.title), title_justify="left", show_lines=False)
    for header in M["columns"]:
        table.add_column(header, overflow="fold")
    for line in plan.lines:
        timeline = line.timeline
        table.add_row(
            escape(line.code),
            escape(line.title if len(line.title) <= 60 else line.title[:59] + "…"),
            escape(", ".join(line.lead)) or "—",
            str(len(line.partners)),
            timeline.due.strftime("%d/%m/%Y") if timeline.due else "—",
            M["recurrence"].get(timeline.recurrence or "", ""),
            f"[yellow]{len(line.warnings)}[/]" if line.warnings else "",
        )
    console.print(table)
    findings = all_findings(plan)
    console.print(
        M["summary"].format(
            lines=len(plan.lines),
            issuer=escape(plan.issuer),
            year=plan.year,
            warnings=len(findings),
        )
    )


@plan_app.command("import")
def import_command(
    path: PathArg,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Tệp YAML ghi ra")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="In JSON ra stdout, không ghi tệp")
    ] = False,
    plan_id: Annotated[str | None, typer.Option("--id", help="Mã kế hoạch")] = None,
    units: UnitsOpt = None,
) -> None:
    """Nhập kế hoạch: ghi định nghĩa YAML và in bảng tóm tắt."""
    plan = _import(path, units, plan_id)
    if as_json:
        sys.stdout.write(json.dumps(plan_json(plan), ensure_ascii=False, indent=2) + "\n")
        return
    if (duplicate := _duplicate_code(plan)) is not None:
        raise fail(escape(duplicate))
    settings = get_settings()
    plan = plan.model_copy(update={"units": _units_name(units, settings.definitions_dir)})
    target = output or settings.plans_dir / f"{plan.id}.yaml"
    try:  # the record first: if the database refuses, no definition file appears either
        version = record_import(plan, settings=settings, actor=cli_actor())
    except RecordError as exc:
        raise fail(escape(exc.message)) from exc
    save_plan(plan, target)
    console = Console()
    print_summary(plan, console)
    console.print(M["written"].format(path=escape(str(target))))
    console.print(M["recorded"].format(plan=plan.id, version=version))


def print_findings(findings: list[Finding], console: Console) -> None:
    table = Table(show_lines=False)
    for header in M["lint_columns"]:
        table.add_column(header, overflow="fold")
    for finding in findings:
        level = M["error_level"] if finding.severity == Severity.ERROR else M["warning_level"]
        colour = "red" if finding.severity == Severity.ERROR else "yellow"
        table.add_row(
            str(finding.line or ""),
            escape(finding.subject or ""),
            f"[{colour}]{level}[/]",
            finding.code,
            escape(finding.message),
        )
    console.print(table)


@plan_app.command("lint")
def lint_command(path: PathArg, units: UnitsOpt = None) -> None:
    """Kiểm tra kế hoạch: in mọi cảnh báo kèm số dòng; mã thoát 1 khi có lỗi."""
    plan = _import(path, units)
    findings = all_findings(plan)
    console = Console()
    if findings:
        print_findings(findings, console)
    errors = sum(f.severity == Severity.ERROR for f in findings)
    console.print(
        M["lint_summary"].format(
            lines=len(plan.lines), warnings=len(findings) - errors, errors=errors
        )
    )
    if has_errors(findings):
        raise typer.Exit(1)


@plan_app.command("show")
def show_command(
    plan: Annotated[str, typer.Argument(help="Mã kế hoạch hoặc đường dẫn tệp YAML")],
) -> None:
    """Xem một kế hoạch đã nhập."""
    path = Path(plan)
    if not path.suffix:
        path = get_settings().plans_dir / f"{plan}.yaml"
    try:
        loaded = load_plan(path)
    except DefinitionError as exc:
        raise fail(escape(str(exc))) from exc
    print_summary(loaded, Console())
