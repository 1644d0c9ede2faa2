"""`duyet start|status|cancel` with two departments' plans side by side: a line code both plans
have needs `--plan`, and the error names the plans. No Prefect server: these stop before it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from duyet.cli import app
from duyet.settings import PROJECT_ROOT
from tests.factories import OTHER_PLAN, OTHER_UNITS

SEED_PLAN = "ke-hoach-cchc-2023-svhttdl"
runner = CliRunner()


@pytest.fixture
def two_plans(isolated_env: Path) -> Path:
    definitions = isolated_env / "definitions"
    shutil.copy(PROJECT_ROOT / "definitions" / OTHER_UNITS, definitions / OTHER_UNITS)
    for plan in (SEED_PLAN, OTHER_PLAN):
        shutil.copy(PROJECT_ROOT / "definitions" / "plans" / f"{plan}.yaml", definitions / "plans")
    return definitions


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "300"})
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("command", ["start", "status", "cancel"])
def test_a_code_in_both_plans_needs_the_plan(two_plans: Path, command: str) -> None:
    code, output = invoke(command, "1.1")
    assert code == 2
    assert "Dòng 1.1 có trong 2 kế hoạch" in output and "--plan" in output
    assert SEED_PLAN in output and OTHER_PLAN in output


def test_a_code_in_no_plan_and_an_unknown_plan_are_named(two_plans: Path) -> None:
    assert invoke("start", "9.9") == (2, "Lỗi: Không kế hoạch nào đã nhập có dòng 9.9.")
    code, output = invoke("start", "1.1", "--plan", "khong-co")
    assert code == 2 and "Không có kế hoạch khong-co" in output


def test_without_a_code_several_plans_are_listed(two_plans: Path) -> None:
    code, output = invoke("start", "--section", "2")
    assert code == 2 and f"Có 2 kế hoạch đã nhập ({SEED_PLAN}, {OTHER_PLAN})" in output


def test_a_code_only_one_plan_has_picks_that_plan(two_plans: Path) -> None:
    # 2.2.đ is the seed's only: the plan is found, and nothing is open to cancel there.
    code, output = invoke("cancel", "2.2.đ")
    assert code == 2 and "Dòng 2.2.đ không có chu trình nào đang mở" in output
