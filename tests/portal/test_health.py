"""`/healthz`: 200 only when the database and the Prefect API answer (the stack: test_stack)."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from fastapi import FastAPI

from duyet.settings import Settings
from portal.app import create_app
from tests.portal.asgi import app_client
from tests.portal.conftest import with_prefect


def test_no_prefect_api_configured_is_503(client: httpx.Client) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "ok", "prefect": "not-configured"}


def test_an_unreachable_prefect_is_503(app: FastAPI) -> None:
    with app_client(with_prefect(app, "http://127.0.0.1:9/api")) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["prefect"] == "unreachable"


def test_an_unreachable_database_is_503(settings: Settings) -> None:
    app = create_app(settings)
    down = "postgresql+psycopg://duyet@127.0.0.1:9/duyet?connect_timeout=2"  # nothing on port 9
    gone = settings.model_copy(update={"database_url": down})
    app.state.portal = replace(app.state.portal, settings=gone)
    with app_client(app) as client:
        answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.json()["database"] == "unreachable"


@pytest.mark.parametrize("missing", ["DUYET_SECRET_KEY", "DUYET_PUBLIC_BASE_URL"])
def test_the_portal_refuses_to_start_without_its_secret_or_public_url(
    settings: Settings, missing: str
) -> None:
    from duyet.settings import SettingsError

    field = {"DUYET_SECRET_KEY": "secret_key", "DUYET_PUBLIC_BASE_URL": "public_base_url"}
    with pytest.raises(SettingsError, match=missing):
        create_app(settings.model_copy(update={field[missing]: None}))
