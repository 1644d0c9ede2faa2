from __future__ import annotations

import hashlib
import itertools
import json

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from records import audit
from records.models import AuditEvent
from tests.records.factories import eight_events, tamper


def verify(sessions: sessionmaker[Session], expect_head: str | None = None) -> audit.ChainReport:
    with sessions.begin() as session:
        return audit.verify(session, expect_head=expect_head)


def test_canonical_json_is_sorted_compact_and_keeps_vietnamese() -> None:
    value = {"b": [1, {"d": "đ", "c": None}], "a": "Phòng Tổ chức"}
    assert audit.canonical_json(value) == '{"a":"Phòng Tổ chức","b":[1,{"c":null,"d":"đ"}]}'


def test_each_event_hashes_its_predecessor_and_its_entry(sessions: sessionmaker[Session]) -> None:
    eight_events(sessions)
    with sessions.begin() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [row.seq for row in rows] == list(range(1, 9))
    assert rows[0].prev_hash == audit.GENESIS
    for previous, row in itertools.pairwise(rows):
        assert row.prev_hash == previous.hash
    first = rows[0]
    entry = {
        "seq": 1,
        "at": first.at,
        "actor": first.actor,
        "action": first.action,
        "subject": first.subject,
        "payload": json.loads(first.payload),
    }
    expected = hashlib.sha256((audit.GENESIS + audit.canonical_json(entry)).encode()).hexdigest()
    assert first.hash == expected
    assert first.at.endswith("+00:00")
    assert [row.action for row in rows] == [
        "plan.imported",
        "cycle.opened",
        "version.submitted",
        "stage.advanced",
        "link.issued",
        "link.issued",
        "link.opened",
        "decision.recorded",
    ]


def test_intact_chain_reports_count_and_head(sessions: sessionmaker[Session]) -> None:
    eight_events(sessions)
    report = verify(sessions)
    assert report.intact
    assert report.entries == 8
    with sessions.begin() as session:
        assert report.head == session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == 8))


def test_empty_chain_is_intact(sessions: sessionmaker[Session]) -> None:
    assert verify(sessions) == audit.ChainReport(0, None, None)


def test_edited_payload_is_found_at_its_seq(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    eight_events(sessions)
    with sessions.begin() as session:
        payload = json.loads(
            session.scalars(select(AuditEvent.payload).where(AuditEvent.seq == 3)).one()
        )
    payload["size"] = 1  # still canonical JSON: only the hash can tell
    edited = audit.canonical_json(payload).replace("'", "''")
    tamper(engine, f"UPDATE audit_events SET payload = '{edited}' WHERE seq = 3")
    broken = verify(sessions).broken
    assert broken == audit.Break(3, "hash", {})


def test_non_canonical_payload_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    eight_events(sessions)
    tamper(engine, "UPDATE audit_events SET payload = payload || ' ' WHERE seq = 6")
    assert verify(sessions).broken == audit.Break(6, "payload", {})


def test_edited_hash_is_found_at_its_seq(engine: Engine, sessions: sessionmaker[Session]) -> None:
    eight_events(sessions)
    tamper(engine, f"UPDATE audit_events SET hash = '{'f' * 64}' WHERE seq = 5")
    assert verify(sessions).broken == audit.Break(5, "hash", {})


def test_deleted_middle_row_is_found_as_missing(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    eight_events(sessions)
    tamper(engine, "DELETE FROM audit_events WHERE seq = 4")
    report = verify(sessions)
    assert report.broken == audit.Break(4, "missing", {})
    assert report.entries == 3


def test_deleted_first_row_is_found(engine: Engine, sessions: sessionmaker[Session]) -> None:
    eight_events(sessions)
    tamper(engine, "DELETE FROM audit_events WHERE seq = 1")
    assert verify(sessions).broken == audit.Break(1, "missing", {})


def test_swapped_rows_are_found_at_the_first(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    eight_events(sessions)
    tamper(
        engine,
        "UPDATE audit_events SET seq = -seq WHERE seq IN (3, 6)",
        "UPDATE audit_events SET seq = 6 WHERE seq = -3",
        "UPDATE audit_events SET seq = 3 WHERE seq = -6",
    )
    assert verify(sessions).broken == audit.Break(3, "prev-hash", {})


def test_truncated_tail_is_found_against_the_recorded_head(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    eight_events(sessions)
    head = verify(sessions).head
    assert head is not None
    assert verify(sessions, expect_head=head).intact
    tamper(engine, "DELETE FROM audit_events WHERE seq >= 7")
    assert verify(sessions).intact  # without the recorded head, a clean cut cannot be seen
    report = verify(sessions, expect_head=head)
    assert report.broken == audit.Break(7, "truncated", {"last": 6})


def test_recorded_head_still_holds_after_the_chain_grew(sessions: sessionmaker[Session]) -> None:
    eight_events(sessions)
    head = verify(sessions).head
    with sessions.begin() as session:
        audit.append(session, actor="test", action="test.appended", subject="test", payload={})
    report = verify(sessions, expect_head=head)
    assert report.intact
    assert report.entries == 9


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_events WHERE seq = 8"],
)
def test_database_refuses_to_change_audit_rows(
    sessions: sessionmaker[Session], statement: str
) -> None:
    eight_events(sessions)
    with pytest.raises(DBAPIError, match="append-only"), sessions.begin() as session:
        session.execute(text(statement))
    assert verify(sessions).entries == 8


def test_row_slipped_in_before_the_start_is_found(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    eight_events(sessions)
    tamper(
        engine,
        "INSERT INTO audit_events (seq, at, actor, action, subject, payload, prev_hash, hash) "
        f"SELECT 0, at, actor, action, subject, payload, prev_hash, '{'e' * 64}' "
        "FROM audit_events WHERE seq = 1",
    )
    report = verify(sessions)
    assert report.broken == audit.Break(1, "inserted", {"found": 0})
    assert (report.entries, report.head) == (0, None)


def test_anchors_show_a_consistent_rewrite_and_a_cut_below_them(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    eight_events(sessions)
    with sessions.begin() as session:
        anchor = audit.head(session)
        rows = {e.seq: e for e in session.scalars(select(AuditEvent))}
        for event in rows.values():
            session.expunge(event)
    assert anchor is not None and anchor.seq == 8
    anchors = [audit.Anchor(anchor.seq, anchor.hash, "09:00:00 27/11/2026")]
    assert verify_anchored(sessions, anchors).intact
    # Edit entry 3 and give it, and every later entry, the hashes the chain then calls for.
    previous = rows[2].hash
    statements = []
    for seq in range(3, 9):
        event = rows[seq]
        event.payload = audit.canonical_json({"edited": seq}) if seq == 3 else event.payload
        event.prev_hash, event.hash = previous, ""
        event.hash = previous = audit.entry_hash(event)
        statements.append(
            f"UPDATE audit_events SET payload = '{event.payload}', prev_hash = "
            f"'{event.prev_hash}', hash = '{event.hash}' WHERE seq = {seq}"
        )
    tamper(engine, *statements)
    assert verify(sessions).intact  # the chain alone cannot tell
    assert verify_anchored(sessions, anchors).broken == audit.Break(
        8, "anchor", {"at": "09:00:00 27/11/2026"}
    )
    tamper(engine, "DELETE FROM audit_events WHERE seq >= 6")
    assert verify_anchored(sessions, anchors).broken == audit.Break(
        6, "anchor-beyond", {"last": 5, "seq": 8, "at": "09:00:00 27/11/2026"}
    )


def verify_anchored(
    sessions: sessionmaker[Session], anchors: list[audit.Anchor]
) -> audit.ChainReport:
    with sessions.begin() as session:
        return audit.verify(session, anchors=anchors)
