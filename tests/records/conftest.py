"""Real databases for the records tests: a SQLite file, and a fresh PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from records import migrate
from records.engine import make_engine, session_factory
from tests.databases import pg_database


@pytest.fixture(params=["sqlite", pytest.param("pg", marks=pytest.mark.pg)])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'records.db'}"
    else:
        yield from pg_database(request.getfixturevalue("pg_admin"))


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
