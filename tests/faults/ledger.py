"""What each fault or attack scenario observed, for docs/reliability.md.

A scenario counts the records before and after its injection (`counts`), asserts what must hold,
and writes one row with `Ledger.record`. `python -m tests.faults.report` turns the rows of the
last run into the table in docs/reliability.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import func, select

from records.engine import session_scope
from records.models import AuditEvent, Decision, DocumentVersion, LinkToken, Mail, ReviewCycle

ROWS = Path(__file__).resolve().parents[2] / "var" / "test-artefacts" / "reliability"


def counts(database_url: str) -> dict[str, int]:
    """The figures every scenario reports: what must never be lost or doubled."""
    with session_scope(database_url) as session:

        def count(query: object) -> int:
            return int(session.scalar(query) or 0)  # type: ignore[call-overload]

        return {
            "cycles": count(select(func.count()).select_from(ReviewCycle)),
            "open": count(
                select(func.count()).select_from(ReviewCycle).where(ReviewCycle.status == "open")
            ),
            "versions": count(select(func.count()).select_from(DocumentVersion)),
            "decisions": count(select(func.count()).select_from(Decision)),
            "links_used": count(
                select(func.count()).select_from(LinkToken).where(LinkToken.used_at.is_not(None))
            ),
            "mails": count(select(func.count()).select_from(Mail)),
            "mails_sent": count(
                select(func.count()).select_from(Mail).where(Mail.status == "sent")
            ),
            "audit": count(select(func.count()).select_from(AuditEvent)),
        }


@dataclass
class Row:
    scenario: str  # one line: what is being proved
    injected: str  # the fault or attack, as done
    before: Mapping[str, int]
    after: Mapping[str, int]
    observed: str  # what happened, in words (e.g. "12 mails delivered once each; 0 duplicates")
    extra: Mapping[str, object] = field(default_factory=dict)  # scenario-specific figures
    test: str = ""
    at: str = ""


class Ledger:
    """Collects the rows of one test; each row goes to its own JSON file at once."""

    def __init__(self, test: str) -> None:
        self.test = test

    def record(self, row: Row) -> None:
        row.test = self.test
        row.at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        ROWS.mkdir(parents=True, exist_ok=True)
        name = self.test.replace("/", "_").replace("::", "__").replace(" ", "_")
        target = ROWS / f"{name}.json"
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(row), ensure_ascii=False, indent=1), "utf-8")
        tmp.replace(target)
