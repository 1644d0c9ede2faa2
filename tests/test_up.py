"""`duyet up`'s settings (duyet/up.py): the same stack on its own Prefect server or on one given
by PREFECT_API_URL (docs/deploy.md). Pure: nothing is started."""

from __future__ import annotations

from pathlib import Path

from duyet.up import serves_prefect, stack_settings


def _environ(tmp_path: Path, **more: str) -> dict[str, str]:
    return {"DUYET_VAR_DIR": str(tmp_path), "DUYET_SECRET_KEY": "k" * 40, **more}


def test_without_a_prefect_api_the_stack_serves_its_own(tmp_path: Path) -> None:
    environ = _environ(tmp_path, DUYET_PREFECT_PORT="4300")
    _, env = stack_settings(environ)
    assert serves_prefect(environ)
    assert env["PREFECT_API_URL"] == "http://127.0.0.1:4300/api"
    assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"].startswith("sqlite+aiosqlite:///")


def test_a_given_prefect_api_and_database_are_used_as_they_are(tmp_path: Path) -> None:
    environ = _environ(
        tmp_path,
        PREFECT_API_URL="https://prefect.internal/api",
        PREFECT_SERVER_DATABASE_CONNECTION_URL="postgresql+asyncpg://prefect@db:5432/prefect",
        DUYET_DATABASE_URL="postgresql+psycopg://duyet@db:5432/duyet",
    )
    settings, env = stack_settings(environ)
    assert not serves_prefect(environ)
    assert env["PREFECT_API_URL"] == "https://prefect.internal/api"
    assert env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] == (
        "postgresql+asyncpg://prefect@db:5432/prefect"
    )
    assert settings.database_url == "postgresql+psycopg://duyet@db:5432/duyet"
