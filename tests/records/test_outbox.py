from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from records import audit
from records.models import AuditEvent, Mail
from records.outbox import due_mail, enqueue_mail, mark_failed, mark_sent
from tests.records.factories import cycle_in_review


def enqueue(session: Session, cycle_id: str | None, **changes: Any) -> Mail:
    fields: dict[str, Any] = {
        "cycle_id": cycle_id,
        "stage": "review",
        "round": 1,
        "recipient": "thanh-tra",
        "kind": "review-request",
        "to_addr": "thanhtra@svhttdl.example",
        "subject": "Đề nghị góp ý dự thảo 1.4.b",
        "text": "Kính gửi Thanh tra Sở…",
        "html": "<p>Kính gửi Thanh tra Sở…</p>",
        "message_domain": "svhttdl.example",
        "actor": "flow",
        "attachments": [{"filename": "du-thao.docx", "sha256": "ab" * 32}],
    }
    return enqueue_mail(session, **(fields | changes))


def queued_events(session: Session) -> list[dict[str, Any]]:
    query = select(AuditEvent.payload).where(AuditEvent.action == "mail.queued")
    return [json.loads(p) for p in session.scalars(query)]


def test_same_key_twice_queues_one_mail_and_one_event(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    with sessions.begin() as session:
        first = enqueue(session, review.cycle_id)
    with sessions.begin() as session:  # a replayed task after a flow resume
        again = enqueue(session, review.cycle_id, subject="khác")
        assert again.id == first.id
        assert again.subject == "Đề nghị góp ý dự thảo 1.4.b"
        assert session.scalar(select(func.count()).select_from(Mail)) == 1
        [event] = queued_events(session)
    assert first.message_id.endswith("@svhttdl.example>")
    assert event["line_code"] == "1.4.b"
    assert event["idempotency_key"] == first.idempotency_key


def test_another_round_or_kind_is_another_mail(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    with sessions.begin() as session:
        ids = {
            enqueue(session, review.cycle_id).id,
            enqueue(session, review.cycle_id, round=2).id,
            enqueue(session, review.cycle_id, kind="reminder").id,
            enqueue(session, None, stage="report", kind="weekly").id,
        }
        assert len(ids) == 4
        assert len({m.message_id for m in session.scalars(select(Mail))}) == 4


def test_failures_back_off_then_give_up(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    now = audit.utcnow()
    with sessions.begin() as session:
        mail = enqueue(session, review.cycle_id, now=now)
        assert [m.id for m in due_mail(session, now=now)] == [mail.id]
        mark_failed(
            session,
            mail_id=mail.id,
            error="421 try later",
            backoff=timedelta(minutes=5),
            max_attempts=2,
            actor="mailer",
            now=now,
        )
        assert due_mail(session, now=now + timedelta(minutes=4)) == []
        assert [m.id for m in due_mail(session, now=now + timedelta(minutes=5))] == [mail.id]
        dead = mark_failed(
            session,
            mail_id=mail.id,
            error="550 no such user",
            backoff=timedelta(minutes=10),
            max_attempts=2,
            actor="mailer",
            now=now,
        )
        assert (dead.status, dead.attempts, dead.last_error) == ("dead", 2, "550 no such user")
        assert due_mail(session, now=now + timedelta(days=1)) == []


def test_sent_mail_is_no_longer_due_and_is_logged_once(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    with sessions.begin() as session:
        mail = enqueue(session, review.cycle_id)
        for _ in range(2):
            sent = mark_sent(session, mail_id=mail.id, actor="mailer")
        assert (sent.status, sent.attempts) == ("sent", 1)
        assert sent.sent_at is not None
        assert due_mail(session) == []
        query = select(func.count()).where(AuditEvent.action == "mail.sent")
        assert session.scalar(query) == 1
        assert audit.verify(session).intact
