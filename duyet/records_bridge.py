"""Where the definitions meet the records database: recording an imported plan."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from definitions.loader import plan_document
from definitions.plan import Plan
from duyet.settings import Settings
from records.engine import transaction
from records.migrate import ensure_schema
from records.plans import record_plan_import


@contextmanager
def records_transaction(settings: Settings) -> Iterator[Session]:
    """A transaction on the records database, its schema made current first (SQLite)."""
    ensure_schema(settings.database_url)
    with transaction(settings.database_url) as session:
        yield session


def cli_actor() -> str:
    """Who acts when a command is typed: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def record_import(plan: Plan, *, settings: Settings, actor: str) -> int:
    """Store `plan` as a new version (or find the identical latest one); return its number."""
    lines = [
        {
            "code": line.code,
            "title": line.title,
            "lead": line.lead,
            "partners": line.partners,
            "due": line.timeline.due,
        }
        for line in plan.lines
    ]
    with records_transaction(settings) as session:
        version = record_plan_import(
            session,
            plan_key=plan.id,
            title=plan.title,
            year=plan.year,
            source_sha256=plan.source.sha256,
            definition=plan_document(plan),
            lines=lines,
            actor=actor,
        )
        return version.version
