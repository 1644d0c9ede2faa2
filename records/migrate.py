"""Schema migrations of the records database, run through Alembic configured in code."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import make_url

from records.engine import make_engine
from records.errors import SchemaNotCurrent

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for `url` without any ini file."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.attributes["url"] = url  # kept out of the ini options: no %-interpolation of passwords
    return config


def upgrade(url: str, rev: str = "head") -> str | None:
    """Migrate up to `rev`; return the revision now current."""
    command.upgrade(alembic_config(url), rev)
    return current(url)


def downgrade(url: str, rev: str = "-1") -> str | None:
    """Migrate down (one step by default); return the revision now current (None: empty)."""
    command.downgrade(alembic_config(url), rev)
    return current(url)


def current(url: str) -> str | None:
    """The revision the database is at, or None if it has no schema yet."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision shipped with the code."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def ensure_schema(url: str) -> None:
    """Bring the embedded SQLite database to head; elsewhere only check it is there.

    Several processes migrating a shared PostgreSQL at once would race, so at scale migrations
    run once per release through `duyet db upgrade`.
    """
    if make_url(url).get_backend_name() == "sqlite":
        upgrade(url)
        return
    now, wanted = current(url), head()
    if now != wanted:
        raise SchemaNotCurrent(current=now or "∅", head=wanted or "∅")
