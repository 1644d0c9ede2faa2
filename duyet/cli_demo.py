"""`duyet demo`: what `make demo` runs — the seed plan imported, linted, recorded, verified."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.rule import Rule

from definitions.importer import import_file
from definitions.lint import all_findings
from definitions.loader import load_units, save_plan
from duyet.cli_plan import print_findings, print_summary
from duyet.messages import AUDIT_BREAKS, DEMO
from duyet.records_bridge import record_import, records_transaction
from duyet.settings import PROJECT_ROOT, get_settings
from records import audit
from records.engine import display_url

SEED_PLAN = PROJECT_ROOT / "definitions" / "seed" / "ke-hoach-cchc-2023-svhttdl.txt"


def demo(
    plan: Annotated[Path, typer.Option(help="Kế hoạch dùng để trình diễn")] = SEED_PLAN,
) -> None:
    """Trình diễn: nhập kế hoạch mẫu, kiểm tra, lưu hồ sơ, xác minh chuỗi nhật ký."""
    settings = get_settings()
    console = Console()
    console.print(Rule(DEMO["title"]))
    console.print(DEMO["step-import"].format(path=plan), style="bold")
    imported = import_file(plan, load_units(settings.units_path))
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
