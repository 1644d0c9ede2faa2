"""Real databases for the records tests: a SQLite file, and a fresh PostgreSQL database."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import URL, Engine, create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from records import migrate
from records.engine import make_engine, session_factory

PG_SERVER_URL = "postgresql+psycopg://root@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
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
    yield engine
    engine.dispose()


def _pg_database(admin: Engine) -> Iterator[str]:
    name = f"duyet_t_{secrets.token_hex(6)}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url: URL = admin.url.set(database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
    else:
        yield from _pg_database(request.getfixturevalue("pg_admin"))


@pytest.fixture
def db_url(empty_db_url: str) -> str:
    """A database migrated to head through Alembic (never `create_all`)."""
    migrate.upgrade(empty_db_url)
    return empty_db_url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    # Enough connections for the 20-thread tests to all hold one at once.
    engine = make_engine(db_url, pool_size=25, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Use as `with sessions.begin() as session:` — one transaction, committed at the end."""
    return session_factory(engine)
