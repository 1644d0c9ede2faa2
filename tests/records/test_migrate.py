from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from records import audit, migrate
from records.engine import make_engine, session_factory
from records.models import Base
from tests.records.factories import eight_events


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def columns(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {column["name"] for column in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def audit_rows_editable(url: str) -> bool:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE audit_events SET actor = actor"))
        return True
    except DBAPIError:
        return False
    finally:
        engine.dispose()


def append_one(url: str) -> None:
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            audit.append(session, actor="test", action="test.appended", subject="t", payload={})
    finally:
        engine.dispose()


def test_up_down_up_from_empty(empty_db_url: str) -> None:
    assert migrate.current(empty_db_url) is None
    assert migrate.upgrade(empty_db_url) == migrate.head() == "0005"
    assert tables(empty_db_url) == set(Base.metadata.tables)
    append_one(empty_db_url)
    assert not audit_rows_editable(empty_db_url)

    assert migrate.downgrade(empty_db_url) == "0004"  # stage keys and attachments go
    assert "stage_started_at" not in columns(empty_db_url, "review_cycles")
    assert migrate.downgrade(empty_db_url) == "0003"  # one step: the numbering register goes
    assert {"number_registers", "published_documents"}.isdisjoint(tables(empty_db_url))
    assert migrate.downgrade(empty_db_url) == "0002"  # the portal's accounts go
    assert "users" not in tables(empty_db_url)
    assert migrate.downgrade(empty_db_url) == "0001"  # the append-only guard goes
    assert audit_rows_editable(empty_db_url)

    assert migrate.upgrade(empty_db_url) == "0005"
    assert not audit_rows_editable(empty_db_url)

    assert migrate.downgrade(empty_db_url, "base") is None
    assert tables(empty_db_url) == set()
    assert migrate.upgrade(empty_db_url) == "0005"


def test_data_survives_down_and_up(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        sessions = session_factory(engine)
        eight_events(sessions)
        migrate.downgrade(empty_db_url)
        migrate.upgrade(empty_db_url)
        with sessions.begin() as session:
            report = audit.verify(session)
        assert (report.intact, report.entries) == (True, 8)
    finally:
        engine.dispose()


def test_models_match_the_migrations(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("pragma", ["journal_mode", "foreign_keys", "busy_timeout"])
def test_sqlite_connections_are_configured(tmp_path: object, pragma: str) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x/records.db")  # creates the folder
    try:
        with engine.connect() as connection:
            value = connection.exec_driver_sql(f"PRAGMA {pragma}").scalar()
    finally:
        engine.dispose()
    assert value == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30_000}[pragma]
