"""`duyet plan import|lint|show` through the real CLI: outputs, exit codes, nothing half-written."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from definitions.loader import load_plan
from duyet.cli import app
from duyet.settings import PROJECT_ROOT
from tests.factories import DATA, OTHER_SEED, OTHER_UNITS, SEED

runner = CliRunner()

LINE_KEYS = {
    "code",
    "section",
    "title",
    "lead_text",
    "partners_text",
    "product_text",
    "lead",
    "partners",
    "products",
    "timeline",
    "warnings",
}


def test_import_writes_the_plan_yaml_and_prints_a_summary(isolated_env: Path) -> None:
    result = runner.invoke(app, ["plan", "import", str(SEED)])
    assert result.exit_code == 0, result.output
    written = isolated_env / "definitions" / "plans" / "ke-hoach-cchc-2023-svhttdl.yaml"
    assert written.is_file()
    assert "44 dòng nhiệm vụ" in result.output
    plan = load_plan(written)
    assert len(plan.lines) == 44
    assert plan.line("1.4.b").partners == ["vhtt-cap-huyen", "don-vi-truc-thuoc"]
    shown = runner.invoke(app, ["plan", "show", plan.id])
    assert shown.exit_code == 0 and "44 dòng nhiệm vụ" in shown.output


def test_import_records_the_unit_directory_it_used(isolated_env: Path) -> None:
    definitions = isolated_env / "definitions"
    units = definitions / OTHER_UNITS
    units.write_bytes((PROJECT_ROOT / "definitions" / OTHER_UNITS).read_bytes())
    result = runner.invoke(app, ["plan", "import", str(OTHER_SEED), "--units", str(units)])
    assert result.exit_code == 0, result.output
    [written] = (definitions / "plans").glob("*.yaml")
    plan = load_plan(written)
    assert plan.units == OTHER_UNITS and plan.number == "/KH-STP"
    assert plan.line("2.1.b").lead == ["phong-hanh-chinh-tu-phap"]
    assert runner.invoke(app, ["plan", "import", str(SEED)]).exit_code == 0
    seed = load_plan(definitions / "plans" / "ke-hoach-cchc-2023-svhttdl.yaml")
    assert seed.units == "units.yaml"


def test_a_unit_directory_outside_the_definitions_is_refused(
    isolated_env: Path, tmp_path: Path
) -> None:
    units = tmp_path / OTHER_UNITS
    units.write_bytes((PROJECT_ROOT / "definitions" / OTHER_UNITS).read_bytes())
    result = runner.invoke(
        app, ["plan", "import", str(OTHER_SEED), "--units", str(units)], env={"COLUMNS": "200"}
    )
    assert result.exit_code != 0 and "nằm ngoài thư mục định nghĩa" in result.output
    assert not list((isolated_env / "definitions" / "plans").iterdir())


def test_import_to_a_chosen_file(isolated_env: Path) -> None:
    target = isolated_env / "out" / "plan.yaml"
    result = runner.invoke(app, ["plan", "import", str(SEED), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert load_plan(target).year == 2023


def test_json_has_exactly_the_documented_shape(isolated_env: Path) -> None:
    result = runner.invoke(app, ["plan", "import", str(SEED), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"plan", "lines", "warnings"}
    assert set(data["plan"]) == {"title", "issuer", "year", "number"}
    assert len(data["lines"]) == 44
    for line in data["lines"]:
        assert set(line) == LINE_KEYS
        assert set(line["timeline"]) == {"text", "due", "milestones", "recurrence"}
    by_code = {line["code"]: line for line in data["lines"]}
    assert by_code["1.5"]["timeline"]["milestones"] == ["2023-03-31", "2023-11-30"]
    assert by_code["1.4.b"]["timeline"]["due"] is None
    assert by_code["4.3.b"]["timeline"]["recurrence"] == "semiannual"
    assert any("3.3" in warning for warning in data["warnings"])
    assert not list((isolated_env / "definitions" / "plans").iterdir())  # --json writes nothing


def test_lint_prints_every_warning_with_its_line_and_exits_0(isolated_env: Path) -> None:
    result = runner.invoke(app, ["plan", "lint", str(SEED)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for expected in (
        "year-mismatch",
        "missing-code",
        "no-lead",
        "no-time",
        "not-a-unit",
        "duplicate-unit",
        "no-date",
        "typo",
    ):
        assert expected in result.output
    assert "│ 78   │" in result.output or " 78 " in result.output  # 3.3 missing, shown at 3.4's row


def test_lint_exits_1_on_errors(isolated_env: Path, tmp_path: Path) -> None:
    plan = tmp_path / "dup.txt"
    plan.write_text(
        "KẾ HOẠCH\nCông tác năm 2024\n"
        "Stt\tNội dung\tĐơn vị chủ trì\tThời gian\n"
        "1\tPhần một\t\t\n"
        "1.1\tViệc một\tVăn phòng\tQuý I\n"
        "1.1\tViệc một, lần nữa\tVăn phòng\tQuý II\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["plan", "lint", str(plan)], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "duplicate-code" in result.output


def _zip_without_document(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a word document")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.txt", b"", "rỗng"),
        ("blank.txt", b"\n\n  \n", "rỗng"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "không phải văn bản"),
        ("latin1.txt", "Kế hoạch năm".encode("cp1258", errors="replace") + b"\xff\xfe", "UTF-8"),
        ("letter.txt", "Kính gửi: Văn phòng\nĐề nghị phối hợp.\n".encode(), "không có bảng"),
        ("other-table.txt", "Họ tên\tNgày sinh\nAn\t1990\n".encode(), "không có bảng"),
        ("no-columns.txt", "Stt\tNội dung\tGhi chú\n1\tViệc\tx\n".encode(), "thiếu cột"),
        ("no-lines.txt", "Stt\tNội dung\tĐơn vị chủ trì\tThời gian\n".encode(), "không có dòng"),
    ],
)
def test_not_a_plan_exits_2_with_a_plain_message_and_writes_nothing(
    isolated_env: Path, tmp_path: Path, name: str, content: bytes, expected: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    plans = isolated_env / "definitions" / "plans"
    for command in (["plan", "import", str(path)], ["plan", "lint", str(path)]):
        result = runner.invoke(app, command, env={"COLUMNS": "200"})
        assert result.exit_code == 2, result.output
        assert expected in result.output
        assert "Traceback" not in result.output
    assert list(plans.iterdir()) == []


def test_a_broken_docx_and_a_missing_file_exit_2(isolated_env: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.docx"
    _zip_without_document(broken)
    result = runner.invoke(app, ["plan", "import", str(broken)], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "Word" in result.output
    result = runner.invoke(app, ["plan", "import", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2 and "Không tìm thấy" in result.output


def test_other_plan_imports_through_the_cli(isolated_env: Path) -> None:
    result = runner.invoke(app, ["plan", "import", str(DATA / "ke-hoach-ksthc-2024.txt"), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["plan"]["year"] == 2024
