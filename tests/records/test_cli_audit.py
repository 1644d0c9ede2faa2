from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from duyet.cli_audit import audit_app
from tests.records.factories import eight_events, new_cycle, tamper

runner = CliRunner()


Invoke = Callable[..., Result]
# These tests check the chain alone; the anchors on a Prefect server are tests/flows' concern.
CHAIN_ALONE = {"verify": ["--no-anchors"]}


@pytest.fixture
def invoke(db_url: str) -> Invoke:
    """Run `duyet audit ARGS…` against the test database."""

    def run(*args: str) -> Result:
        env = {"DUYET_DATABASE_URL": db_url, "COLUMNS": "200"}
        return runner.invoke(audit_app, [*args, *CHAIN_ALONE.get(args[0], [])], env=env)

    return run


@pytest.fixture
def two_lines(sessions: sessionmaker[Session]) -> None:
    """Eight events about line 1.4.b, then a cycle of line 1.1 (event 9)."""
    eight_events(sessions)
    with sessions.begin() as session:
        new_cycle(session, line_code="1.1")


def test_verify_intact_then_broken_after_tampering(
    invoke: Invoke, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    eight_events(sessions)
    result = invoke("verify")
    assert result.exit_code == 0, result.output
    assert "8 bản ghi, chuỗi toàn vẹn." in result.output
    tamper(engine, "UPDATE audit_events SET actor = 'ai-do' WHERE seq = 3")
    result = invoke("verify")
    assert result.exit_code == 1
    assert "Chuỗi bị phá vỡ tại seq 3: mã băm không khớp nội dung bản ghi" in result.output


def test_verify_expect_head_finds_a_cut_tail(
    invoke: Invoke, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    eight_events(sessions)
    first = invoke("verify")
    head = first.output.split("Mã băm đầu chuỗi: ")[1].strip()
    assert invoke("verify", "--expect-head", head).exit_code == 0
    tamper(engine, "DELETE FROM audit_events WHERE seq = 8")
    assert invoke("verify").exit_code == 0
    result = invoke("verify", "--expect-head", head)
    assert result.exit_code == 1
    assert "seq 8" in result.output
    assert "phần cuối bị cắt" in result.output


def test_empty_chain_verifies(invoke: Invoke) -> None:
    result = invoke("verify")
    assert (result.exit_code, result.output) == (0, "0 bản ghi, chuỗi toàn vẹn.\n")


def test_export_csv_to_stdout_filtered_by_line(invoke: Invoke, two_lines: None) -> None:
    result = invoke("export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [int(r["seq"]) for r in rows] == list(range(1, 10))
    result = invoke("export", "--format", "csv", "--line", "1.1")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["action"] for r in rows] == ["plan.imported", "cycle.opened"]
    assert json.loads(rows[1]["payload"])["line_code"] == "1.1"


def test_export_json_to_a_file(invoke: Invoke, two_lines: None, tmp_path: Path) -> None:
    out = tmp_path / "trail.json"
    result = invoke("export", "--format", "json", "--line", "1.4.b", "-o", str(out))
    assert result.exit_code == 0, result.output
    entries = json.loads(out.read_text(encoding="utf-8"))
    assert [e["seq"] for e in entries] == list(range(1, 9))
    assert entries[-1]["payload"]["reviewer_person"] == "Nguyễn Thị Hoa"
    assert entries[1]["prev_hash"] == entries[0]["hash"]


def test_export_xlsx(invoke: Invoke, two_lines: None, tmp_path: Path) -> None:
    assert invoke("export", "--format", "xlsx").exit_code == 2  # needs -o
    out = tmp_path / "trail.xlsx"
    result = invoke("export", "--format", "xlsx", "--line", "1.4.b", "-o", str(out))
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out, read_only=True)
    rows = list(workbook["Nhật ký"].iter_rows(values_only=True))
    workbook.close()
    assert rows[0] == ("seq", "at", "actor", "action", "subject", "payload", "prev_hash", "hash")
    assert [row[0] for row in rows[1:]] == list(range(1, 9))
    assert rows[-1][3] == "decision.recorded"
    assert "Thống nhất." in str(rows[-1][5])


def test_show_prints_the_line_timeline(invoke: Invoke, two_lines: None) -> None:
    result = invoke("show", "1.4.b")
    assert result.exit_code == 0, result.output
    for text in (
        "Lịch sử dòng 1.4.b",
        "Nhập kế hoạch",
        "Mở chu trình",
        "dự thảo → lấy ý kiến",
        "Mở đường dẫn",
        "Ghi nhận ý kiến",
        "đồng ý — Thống nhất.",
    ):
        assert text in result.output
    assert "Lịch sử dòng 1.1" in invoke("show", "1.1").output
    assert "Không có sự kiện nào cho dòng 9.9." in invoke("show", "9.9").output


def test_main_cli_has_the_db_and_audit_commands(invoke: Invoke, db_url: str) -> None:
    from duyet.cli import app

    command = ["audit", "verify", "--no-anchors"]
    result = runner.invoke(app, command, env={"DUYET_DATABASE_URL": db_url})
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["db", "current"], env={"DUYET_DATABASE_URL": db_url}).exit_code == 0
