"""The audit trail as auditors read it: filtered by plan line, written as CSV, JSON or XLSX."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from string import Formatter
from typing import Any, TextIO

from sqlalchemy.orm import Session

from duyet.messages import AUDIT_SUMMARIES, LINK_STATES, STAGES, VERDICTS
from records.audit import canonical_json, events

COLUMNS = ("seq", "at", "actor", "action", "subject", "payload", "prev_hash", "hash")


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    def concerns(self, *, line_code: str | None, plan_key: str | None) -> bool:
        """Whether the event is about the line (`line_code`, or listed in `line_codes`)."""
        if plan_key is not None and self.payload.get("plan_key") != plan_key:
            return False
        if line_code is None:
            return True
        return bool(
            self.payload.get("line_code") == line_code
            or line_code in self.payload.get("line_codes", ())
        )

    def flat(self) -> list[Any]:
        """The entry as one spreadsheet row, payload as canonical JSON."""
        return [canonical_json(v) if k == "payload" else v for k, v in asdict(self).items()]


def trail(
    session: Session, *, line_code: str | None = None, plan_key: str | None = None
) -> Iterator[Entry]:
    """The chain's entries in order, only those about `line_code` (and `plan_key`) if given."""
    for event in events(session):
        try:
            payload = json.loads(event.payload)
        except ValueError:  # a tampered row stays visible; `verify` says what is wrong with it
            payload = {"unreadable": event.payload}
        entry = Entry(
            seq=event.seq,
            at=event.at,
            actor=event.actor,
            action=event.action,
            subject=event.subject,
            payload=payload if isinstance(payload, dict) else {"value": payload},
            prev_hash=event.prev_hash,
            hash=event.hash,
        )
        if entry.concerns(line_code=line_code, plan_key=plan_key):
            yield entry


def write_csv(entries: Iterable[Entry], stream: TextIO) -> int:
    """Write a header and one row per entry; return the number of entries."""
    writer = csv.writer(stream)
    writer.writerow(COLUMNS)
    count = 0
    for count, entry in enumerate(entries, start=1):  # noqa: B007 - count is the result
        writer.writerow(entry.flat())
    return count


def write_json(entries: Iterable[Entry], stream: TextIO) -> int:
    """Write a JSON array of entries (payload as an object); return the number of entries."""
    rows = [asdict(entry) for entry in entries]
    json.dump(rows, stream, ensure_ascii=False, indent=2)
    stream.write("\n")
    return len(rows)


def write_xlsx(entries: Iterable[Entry], path: Path, *, sheet_title: str = "audit") -> int:
    """Write one sheet with a header and one row per entry; return the number of entries."""
    from openpyxl import Workbook  # only the export needs it: not every CLI call

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.append(list(COLUMNS))
    count = 0
    for count, entry in enumerate(entries, start=1):  # noqa: B007 - count is the result
        sheet.append(entry.flat())
    workbook.save(path)
    return count


def describe(entry: Entry, *, shorten: bool = False) -> str:
    """One Vietnamese line about an event (its canonical JSON when no summary fits it).

    `shorten` cuts hashes and ids for a terminal; exports and the portal show them whole.
    """
    template = AUDIT_SUMMARIES.get(entry.action)
    if template is None:
        return canonical_json(entry.payload)
    values: dict[str, Any] = dict(entry.payload)
    for key in ("stage", "from_stage", "to_stage"):
        if key in values:
            values[key] = STAGES.get(values[key], values[key])
    if "verdict" in values:
        values["verdict"] = VERDICTS.get(values["verdict"], values["verdict"])
    if "state" in values:
        values["state"] = LINK_STATES.get(values["state"], values["state"])
    if shorten:
        for key, keep in (("sha256", 12), ("cycle_id", 8)):
            if isinstance(values.get(key), str):
                values[key] = values[key][:keep] + "…"
    names = [name for _, name, _, _ in Formatter().parse(template) if name]
    shown = {name: "—" if values.get(name) in (None, "") else str(values[name]) for name in names}
    return template.format(**shown)
