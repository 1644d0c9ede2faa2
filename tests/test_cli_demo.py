"""The demo command and the CLI's error boundary, run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from duyet.cli import app
from tests.factories import DATA, SEED

runner = CliRunner()


def test_demo_imports_records_and_verifies(isolated_env: Path) -> None:
    result = runner.invoke(app, ["demo", "--offline"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "44 dòng nhiệm vụ" in result.output
    assert "phiên bản 1" in result.output
    assert "chuỗi nguyên vẹn" in result.output
    again = runner.invoke(app, ["demo", "--offline"], env={"COLUMNS": "160"})
    assert again.exit_code == 0 and "phiên bản 1" in again.output  # same content: same version


def test_reimporting_a_changed_plan_keeps_the_history(isolated_env: Path, tmp_path: Path) -> None:
    first = runner.invoke(app, ["plan", "import", str(SEED), "--id", "kh"])
    assert first.exit_code == 0 and "phiên bản 1" in first.output
    changed = tmp_path / "kh.txt"
    changed.write_text(
        SEED.read_text(encoding="utf-8").replace("Quý II/2023", "Quý III/2023"), encoding="utf-8"
    )
    second = runner.invoke(app, ["plan", "import", str(changed), "--id", "kh"])
    assert second.exit_code == 0 and "phiên bản 2" in second.output
    verify = runner.invoke(app, ["audit", "verify", "--no-anchors"])
    assert verify.exit_code == 0 and "2" in verify.output


def test_an_unreachable_database_is_a_plain_error(isolated_env: Path) -> None:
    env = {
        **os.environ,
        "DUYET_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from duyet.cli import main; main()", "plan", "import",
         str(DATA / "ke-hoach-ksthc-2024.txt")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "Không kết nối được cơ sở dữ liệu" in result.stderr
    assert "Traceback" not in result.stderr
    assert list((isolated_env / "definitions" / "plans").iterdir()) == []
