"""`duyet calendar add|show`: the working-day arithmetic every deadline uses."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from duyet.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        ("2024-02-07", "5", "2024-02-21"),  # Tết 2024: 08–14/02 off, then a weekend
        ("2025-04-29", "1", "2025-05-05"),  # 30/4, 1/5, the bridged 2/5, then a weekend
        ("2024-04-26", "1", "2024-05-02"),  # 29/4 bridged, 30/4, 1/5 off
        ("2024-05-03", "1", "2024-05-04"),  # Saturday 04/05/2024 is a make-up working day
        ("2024-02-21", "-5", "2024-02-07"),  # counting back
        ("2023-09-01", "0", "2023-09-01"),
    ],
)
def test_add(start: str, days: str, expected: str) -> None:
    result = runner.invoke(app, ["calendar", "add", start, "--", days])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == expected


def test_add_explains_the_days_skipped_in_vietnamese() -> None:
    result = runner.invoke(app, ["calendar", "add", "2024-02-07", "5", "--explain"])
    assert result.exit_code == 0
    assert "Tết Nguyên Đán" in result.stderr
    assert "Thứ Bảy/Chủ nhật" in result.stderr


def test_bad_date_is_a_plain_error() -> None:
    result = runner.invoke(app, ["calendar", "add", "2024-13-01", "1"])
    assert result.exit_code == 2
    assert "Ngày không hợp lệ: 2024-13-01" in result.output
    assert "Traceback" not in result.output


def test_show_lists_days_off_and_worked_saturdays() -> None:
    result = runner.invoke(app, ["calendar", "show", "2025"])
    assert result.exit_code == 0
    assert "2025-05-02  nghỉ: Ngày nghỉ (thay cho ngày 26/04/2025)" in result.stdout
    assert "2025-04-26  làm việc bù (cuối tuần)" in result.stdout
