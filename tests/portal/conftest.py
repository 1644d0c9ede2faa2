"""Portal fixtures: a migrated SQLite records database with the seed plan, the app on it, an
in-process HTTP client; the browser tier adds uvicorn and Chromium (`tests/portal/browser.py`)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from definitions.loader import load_plan
from duyet.records_bridge import record_import
from duyet.settings import PROJECT_ROOT, Settings, get_settings
from portal.app import create_app
from portal.orchestrator import Orchestrator
from records.migrate import upgrade
from tests.portal.asgi import app_client
from tests.portal.factories import SEED_PLAN


def portal_env(root: Path) -> dict[str, str]:
    return {
        "DUYET_VAR_DIR": str(root / "var"),
        "DUYET_DATABASE_URL": f"sqlite:///{root / 'duyet.db'}",
        "DUYET_SECRET_KEY": secrets.token_urlsafe(32),
        "DUYET_PUBLIC_BASE_URL": "http://portal.test",
    }


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A records database at head with the seed plan recorded, built once and copied."""
    root = tmp_path_factory.mktemp("seeded")
    settings = get_settings(portal_env(root))
    upgrade(settings.database_url)
    plan = load_plan(PROJECT_ROOT / "definitions" / "plans" / f"{SEED_PLAN}.yaml")
    record_import(plan, settings=settings, actor="test")
    return root / "duyet.db"


@pytest.fixture
def settings(tmp_path: Path, seeded_db: Path) -> Settings:
    shutil.copy(seeded_db, tmp_path / "duyet.db")
    return get_settings(portal_env(tmp_path))


def with_prefect(app: FastAPI, api_url: str | None) -> FastAPI:
    """The app talking to this Prefect API (None: none configured)."""
    app.state.portal = replace(app.state.portal, orchestrator=Orchestrator(api_url))
    return app


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return with_prefect(create_app(settings), None)


@pytest.fixture
def client(app: FastAPI) -> Iterator[httpx.Client]:
    with app_client(app) as found:
        yield found
