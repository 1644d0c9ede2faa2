"""Real databases for tests: the PostgreSQL server of the machine, a fresh database per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError

PG_SERVER_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


def pg_admin_engine() -> Iterator[Engine]:
    """AUTOCOMMIT access to the test server; skips if it is down (fails if PG is required)."""
    url = make_url(os.environ.get("DUYET_TEST_PG_URL", PG_SERVER_URL))
    engine = create_engine(url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
    try:
        with engine.connect():
            pass
    except OperationalError as error:
        engine.dispose()
        reason = f"PostgreSQL unreachable at {url.render_as_string()}: {error.orig}"
        if os.environ.get("DUYET_REQUIRE_PG") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    try:
        yield engine
    finally:  # also when an exception is thrown in (used as a context manager)
        engine.dispose()


def pg_database(admin: Engine, prefix: str = "duyet_t") -> Iterator[str]:
    """A new, empty database on the test server, dropped afterwards; yields its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url: URL = admin.url.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
