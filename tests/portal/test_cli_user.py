"""`duyet user add|list|disable`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from duyet.cli import app
from duyet.settings import Settings
from portal.passwords import verify_password
from records.audit import events
from records.engine import session_scope
from records.users import UserExists, find_user

runner = CliRunner()


def env(settings: Settings) -> dict[str, str]:
    return {"DUYET_DATABASE_URL": settings.database_url, "COLUMNS": "200"}


def test_add_list_disable(settings: Settings) -> None:
    added = runner.invoke(
        app,
        [
            "user",
            "add",
            "VanPhong",
            "--role",
            "office",
            "--name",
            "Trần Thị Hà",
            "--password-stdin",
        ],
        input="mot-mat-khau-dai\n",
        env=env(settings),
    )
    assert added.exit_code == 0, added.output
    assert "Đã tạo tài khoản vanphong (office)." in added.output
    listed = runner.invoke(app, ["user", "list", "--json"], env=env(settings))
    (user,) = json.loads(listed.stdout)["users"]
    assert (user["username"], user["display_name"], user["role"], user["disabled"]) == (
        "vanphong",
        "Trần Thị Hà",
        "office",
        False,
    )
    assert "Trần Thị Hà" in runner.invoke(app, ["user", "list"], env=env(settings)).output
    disabled = runner.invoke(app, ["user", "disable", "vanphong"], env=env(settings))
    assert disabled.exit_code == 0 and "Đã khóa tài khoản vanphong." in disabled.output
    with session_scope(settings.database_url) as session:
        stored = find_user(session, username="VANPHONG")
        assert stored is not None and stored.disabled
        assert verify_password(stored.password_hash, "mot-mat-khau-dai")
        actions = [(e.action, e.subject) for e in events(session) if e.action.startswith("user.")]
        assert "mot-mat-khau-dai" not in " ".join(e.payload for e in events(session))
    assert actions == [("user.added", "user:vanphong"), ("user.disabled", "user:vanphong")]


def test_the_password_is_asked_twice(settings: Settings) -> None:
    args = ["user", "add", "kiemtoan", "--role", "auditor"]
    mismatch = runner.invoke(app, args, input="mat-khau-mot-1\nmat-khau-hai-2\n", env=env(settings))
    assert mismatch.exit_code == 2 and "không khớp" in mismatch.output
    ok = runner.invoke(app, args, input="mat-khau-mot-1\nmat-khau-mot-1\n", env=env(settings))
    assert ok.exit_code == 0, ok.output


def test_refusals(settings: Settings) -> None:
    args = ["user", "add", "qt", "--role", "admin", "--password-stdin"]
    short = runner.invoke(app, args, input="ngan\n", env=env(settings))
    assert short.exit_code == 2 and "ít nhất 10 ký tự" in short.output
    assert runner.invoke(app, args, input="du-dai-roi-day\n", env=env(settings)).exit_code == 0
    again = runner.invoke(app, args, input="du-dai-roi-day\n", env=env(settings))
    assert isinstance(again.exception, UserExists)
    assert again.exception.message == "Tên đăng nhập qt đã có"
    role = runner.invoke(app, ["user", "add", "x", "--role", "boss"], env=env(settings))
    assert role.exit_code == 2
    assert runner.invoke(app, ["user", "disable", "khong-co"], env=env(settings)).exit_code == 1
