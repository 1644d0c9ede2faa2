"""`duyet demo`: what `make demo` runs — the seed plan imported, linted, recorded, verified."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.rule import Rule

from definitions.importer import import_file
from definitions.lint import all_findings
from definitions.loader import load_processes, load_units, save_plan
from duyet.cli_audit import show
from duyet.cli_plan import print_findings, print_summary
from duyet.cli_up import print_stack
from duyet.demo_play import check_published, play, run_states
from duyet.messages import AUDIT_BREAKS, DEMO
from duyet.records_bridge import record_import, records_transaction
from duyet.settings import PROJECT_ROOT, get_settings
from duyet.supervisor import PortInUse
from duyet.up import up
from flows.control import view_of
from records import audit
from records.engine import display_url

SEED_PLAN = PROJECT_ROOT / "definitions" / "seed" / "ke-hoach-cchc-2023-svhttdl.txt"


def demo(
    plan: Annotated[Path, typer.Option(help="Kế hoạch dùng để trình diễn")] = SEED_PLAN,
    keep: Annotated[
        bool, typer.Option("--keep", help="Để hệ thống chạy tiếp sau khi xong")
    ] = False,
    offline: Annotated[
        bool, typer.Option("--offline", help="Chỉ nhập và kiểm tra kế hoạch, không chạy hệ thống")
    ] = False,
    code: Annotated[str, typer.Option("--code", help="Dòng kế hoạch được trình diễn")] = "2.1.a",
) -> None:
    """Trình diễn: nhập kế hoạch mẫu, rồi chạy một chu trình duyệt qua thư và HTTP thật."""
    settings = get_settings()
    console = Console()
    console.print(Rule(DEMO["title"]))
    console.print(DEMO["step-import"].format(path=plan), style="bold")
    imported = import_file(
        plan, load_units(settings.units_path), processes=load_processes(settings.processes_dir)
    )
    target = settings.plans_dir / f"{imported.id}.yaml"
    save_plan(imported, target)
    print_summary(imported, console)
    console.print(DEMO["step-lint"], style="bold")
    print_findings(all_findings(imported), console)
    console.print(DEMO["step-record"].format(url=display_url(settings.database_url)), style="bold")
    version = record_import(imported, settings=settings, actor="demo")
    console.print(DEMO["recorded"].format(plan=imported.id, version=version))
    console.print(DEMO["step-audit"], style="bold")
    with records_transaction(settings) as session:
        report = audit.verify(session)
    if report.broken is not None:
        reason = AUDIT_BREAKS[report.broken.reason].format(**report.broken.params)
        console.print(DEMO["broken"].format(seq=report.broken.seq, reason=reason), style="red")
        raise typer.Exit(1)
    console.print(DEMO["intact"].format(count=report.entries, head=report.head))
    console.print(DEMO["done"].format(path=target))
    if not offline:
        live(console, plan_id=imported.id, code=code, keep=keep)


def live(console: Console, *, plan_id: str, code: str, keep: bool) -> None:
    """Start the stack, play a cycle through mail and HTTP, show its trail, stop (or keep)."""
    console.print(Rule(DEMO["live-title"]))
    console.print(DEMO["step-up"], style="bold")
    try:
        with console.status(DEMO["starting"]):
            stack = up()
    except PortInUse as exc:
        port, _, variable = str(exc).partition(":")
        console.print(DEMO["port-in-use"].format(port=port, variable=variable), style="red")
        raise typer.Exit(2) from None
    os.environ.update(stack.env)  # every get_settings() below sees the stack's settings
    try:
        print_stack(stack, console)
        console.print(DEMO["step-play"].format(code=code), style="bold")
        cycle_id = play(stack, console, plan_id=plan_id, code=code)
        if not check_published(stack, console):
            raise typer.Exit(1)
        console.print(DEMO["step-trail"], style="bold")
        show(code=code, plan=plan_id)
        view = view_of(stack.settings, cycle_id)
        if view.flow_run_id:
            console.print(
                DEMO["states"].format(states=" → ".join(run_states(stack, view.flow_run_id)))
            )
        with records_transaction(stack.settings) as session:
            report = audit.verify(session)
        console.print(DEMO["intact"].format(count=report.entries, head=report.head))
        if report.broken is not None:
            raise typer.Exit(1)
        console.print(DEMO["live-done"].format(portal=stack.portal_url, inbox=stack.inbox_url))
        if keep:
            console.print(DEMO["kept"])
            stack.supervisor.watch()
    finally:
        with console.status(DEMO["stopping"]):
            stack.supervisor.stop()
