from __future__ import annotations

from typer.testing import CliRunner

from duyet.cli_db import db_app

runner = CliRunner()


def test_upgrade_downgrade_current(empty_db_url: str) -> None:
    env = {"DUYET_DATABASE_URL": empty_db_url}

    def run(*args: str) -> str:
        result = runner.invoke(db_app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    assert "chưa có lược đồ" in run("current")
    assert "Đã nâng cấp" in run("upgrade")
    assert run("current").strip().endswith(": 0005")
    assert "về phiên bản 0004" in run("downgrade")
    assert "lên phiên bản 0005" in run("upgrade")
    assert "chưa có lược đồ" in run("downgrade", "base")


def test_default_database_is_a_file_under_var(tmp_path: object) -> None:
    env = {"DUYET_VAR_DIR": f"{tmp_path}/var", "DUYET_DATABASE_URL": ""}
    result = runner.invoke(db_app, ["upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert f"{tmp_path}/var/duyet.db" in result.output
