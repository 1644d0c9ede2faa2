"""The OpenAPI schema is served, and schemathesis finds no request that ends in a 5xx."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import BaseSchema

from definitions.stage_rules import Stage
from duyet.settings import Settings
from tests.portal.asgi import app_client
from tests.portal.factories import add_account, open_at, sign_in

FUZZ = settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def test_the_schema_lists_every_audience(client: httpx.Client) -> None:
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {"/r/{token}", "/r/{token}/delegate", "/login", "/office", "/office/start"} <= paths
    assert {"/audit", "/audit/lines/{code}", "/audit/export", "/healthz"} <= paths
    assert set(schema["paths"]["/r/{token}"]) == {"get", "head", "post"}
    assert {"404", "409", "410"} <= set(schema["paths"]["/r/{token}"]["get"]["responses"])


@pytest.fixture
def fuzzed_app(settings: Settings, app: FastAPI) -> FastAPI:
    open_at(settings, "2.1.a", Stage.REVIEW)  # some real links and data behind the pages
    add_account(settings, "quantri", "admin")
    return app


@pytest.fixture
def portal_schema(fuzzed_app: FastAPI) -> BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)


def fuzz(schema: BaseSchema, cookies: dict[str, str] | None = None) -> int:
    """Every operation, valid and invalid input, `FUZZ.max_examples` each; no 5xx allowed."""
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # Err: an invalid schema fails here
        if operation.path == "/healthz":  # takes no input; its 503 is by design (test_health)
            continue
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Case[Any]) -> None:
                case.call_and_validate(checks=[not_a_server_error], cookies=cookies)

            try:
                check()
            except Unsatisfiable:  # nothing invalid to send: no constrained input
                assert mode is GenerationMode.NEGATIVE, operation.label
    return operations


def test_anonymous_requests_never_fail_on_the_server(portal_schema: BaseSchema) -> None:
    assert fuzz(portal_schema) >= 14


def test_signed_in_requests_never_fail_on_the_server(
    fuzzed_app: FastAPI, portal_schema: BaseSchema
) -> None:
    with app_client(fuzzed_app) as client:
        assert sign_in(client, "quantri").status_code == 303
        cookie = {"duyet_session": client.cookies["duyet_session"]}
    assert fuzz(portal_schema, cookie) >= 14
