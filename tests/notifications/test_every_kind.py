"""Every kind of mail, queued by the dispatch API, arrives over real SMTP as valid MIME with its
attachments and, where it belongs, exactly one working link."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from icalendar import Calendar
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import dispatch, notices
from notifications.context import Document
from notifications.links import LinkOutcome, check_link
from notifications.mail import MailKind
from records import audit
from records.cycles import cancel_cycle, publish_document
from records.documents import store_blob
from records.models import Mail
from records.outbox import mark_failed
from tests.notifications.conftest import SmtpServer
from tests.notifications.factories import (
    ACTOR,
    CODE,
    LEAD,
    OFFICE,
    PARTNERS,
    PDF,
    PDF_NAME,
    SECRET,
    advance,
    decide,
    deliver,
    links_in,
    new_cycle,
    submit,
    token_of,
)

REQUESTS = {
    MailKind.DRAFT_REQUEST,
    MailKind.REVIEW_REQUEST,
    MailKind.APPROVAL_REQUEST,
    MailKind.CHANGES_REQUESTED,
    MailKind.REMINDER,
    MailKind.DIGEST,
}


def every_kind(
    session: Session, settings: Settings, directory: UnitDirectory
) -> dict[MailKind, list[Mail]]:
    """One cycle from draft to publication, another cancelled, the rest: every kind queued."""
    queued: dict[MailKind, list[Mail]] = {}
    common: dict[str, Any] = {"settings": settings, "directory": directory, "actor": ACTOR}

    def add(kind: MailKind, mails: list[Mail] | Mail | None) -> None:
        rows = mails if isinstance(mails, list) else [mails] if mails else []
        queued.setdefault(kind, []).extend(rows)

    cycle = new_cycle(session).id
    add(MailKind.DRAFT_REQUEST, dispatch.request_draft(session, cycle_id=cycle, round=1, **common))
    submit(session, cycle)
    advance(session, cycle, Stage.REVIEW)
    add(
        MailKind.REVIEW_REQUEST, dispatch.request_review(session, cycle_id=cycle, round=1, **common)
    )
    review: dict[str, Any] = {"cycle_id": cycle, "stage": Stage.REVIEW, "round": 1}
    add(MailKind.REMINDER, dispatch.send_reminder(session, days_left=2, **review, **common))
    add(
        MailKind.ESCALATION,
        dispatch.escalate(session, to="head", days_overdue=1, **review, **common),
    )
    add(
        MailKind.ESCALATION,
        dispatch.escalate(session, to="board", days_overdue=3, **review, **common),
    )
    add(
        MailKind.DIGEST,
        dispatch.send_digest(
            session, unit=PARTNERS[0], cycle_ids=[cycle], on=audit.utcnow().date(), **common
        ),
    )
    decide(session, cycle, Stage.REVIEW, 1, PARTNERS[0], Verdict.CHANGES, "Bổ sung căn cứ pháp lý.")
    advance(session, cycle, Stage.DRAFT, back=True)
    add(
        MailKind.CHANGES_REQUESTED,
        dispatch.notify_changes_requested(session, cycle_id=cycle, round=2, **common),
    )
    submit(session, cycle, PDF + b"% v2\n")
    advance(session, cycle, Stage.REVIEW)
    advance(session, cycle, Stage.APPROVAL)
    add(
        MailKind.APPROVAL_REQUEST,
        dispatch.request_approval(session, cycle_id=cycle, round=2, **common),
    )
    advance(session, cycle, Stage.PUBLICATION)
    publish_document(session, cycle_id=cycle, actor=ACTOR)
    add(
        MailKind.PUBLISHED,
        dispatch.notify_published(session, cycle_id=cycle, units=[LEAD], **common),
    )
    add(
        MailKind.REJECTED, dispatch.notify_rejected(session, cycle_id=cycle, reason="Thử", **common)
    )
    other = new_cycle(session, code="2.2.đ").id
    cancel_cycle(session, cycle_id=other, actor=OFFICE, reason="Điều chỉnh kế hoạch")
    add(
        MailKind.CANCELLED,
        dispatch.notify_cancelled(session, cycle_id=other, reason="Điều chỉnh kế hoạch", **common),
    )
    victim = queued[MailKind.REVIEW_REQUEST][-1]
    mark_failed(
        session,
        mail_id=victim.id,
        error="550 5.1.1 no such user",
        backoff=timedelta(seconds=1),
        max_attempts=1,
        actor=ACTOR,
    )
    add(
        MailKind.DEAD_LETTER,
        dispatch.notify_dead_letter(session, mail_id=victim.id, **common),
    )
    queued[MailKind.REVIEW_REQUEST].remove(victim)
    add(MailKind.PROGRESS_REPORT, report_mails(session, settings, directory))
    return queued


ANNEX = b"PK\x03\x04 phu luc bao cao quy I\n"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_mails(session: Session, settings: Settings, directory: UnitDirectory) -> list[Mail]:
    """The periodic report, its signed PDF and XLSX annex stored as a published report's are."""
    now = audit.utcnow()
    files = [
        ("01-BC-SVHTTDL.pdf", PDF, "application/pdf"),
        ("01-BC-SVHTTDL-phu-luc.xlsx", ANNEX, XLSX),
    ]
    document, annex = (
        Document(
            filename=name,
            sha256=store_blob(session, content=content, media_type=media_type, now=now),
            size=len(content),
            media_type=media_type,
        )
        for name, content, media_type in files
    )
    return notices.notify_progress_report(
        session,
        settings=settings,
        directory=directory,
        plan_key="kh-thong-bao",
        plan_title="Kế hoạch kiểm tra năm 2024",
        period="quý I năm 2024",
        number="Số: 01/BC-SVHTTDL",
        published_on=now.date(),
        document=document,
        annex=annex,
        public_url=None,
        actor=ACTOR,
    )


def test_every_kind_arrives_as_valid_mime_with_its_link(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    with sessions.begin() as session:
        queued = every_kind(session, mail_settings, directory)
    assert set(queued) == set(MailKind)
    report = deliver(sessions, mail_settings, directory)
    rows = {m.message_id: m for mails in queued.values() for m in mails}
    assert (report.sent, report.failed, report.connections) == (len(rows), 0, 1)
    arrived = {str(r.message["Message-ID"]): r for r in smtp.recorder.received}
    assert sorted(arrived) == sorted(rows)
    for message_id, row in rows.items():
        received = arrived[message_id]
        message = received.message
        assert received.rcpt_tos == [row.to_addr] and received.mail_from == mail_settings.smtp_from
        _check_mime(message, row)
        kind = MailKind(row.kind)
        expected = 0 if kind not in REQUESTS and not _escalation_to_head(row) else 1
        if kind is MailKind.DIGEST:
            expected = 1  # one pending line listed
        _check_links(sessions, mail_settings, message, row, expected)
        names = [part.get_filename() for part in message.iter_attachments()]
        if expected:
            assert names == ["han-xu-ly.ics"]
            _check_calendar(message, row)
        elif kind is MailKind.PUBLISHED:
            [document] = list(message.iter_attachments())
            assert document.get_filename() == PDF_NAME
            assert document.get_content_type() == "application/pdf"
            assert document.get_content() == PDF + b"% v2\n"
        elif kind is MailKind.PROGRESS_REPORT:
            pdf, xlsx = list(message.iter_attachments())
            assert (pdf.get_filename(), pdf.get_content()) == ("01-BC-SVHTTDL.pdf", PDF)
            assert (xlsx.get_filename(), xlsx.get_content_type()) == (
                "01-BC-SVHTTDL-phu-luc.xlsx",
                XLSX,
            )
            assert xlsx.get_content() == ANNEX
        else:
            assert names == []


def _escalation_to_head(row: Mail) -> bool:
    return row.kind == MailKind.ESCALATION and row.idempotency_key.endswith(":head")


def _check_mime(message: EmailMessage, row: Mail) -> None:
    assert message["Subject"] == row.subject
    code = {MailKind.CANCELLED: "2.2.đ", MailKind.PROGRESS_REPORT: "01/BC-SVHTTDL"}.get(
        MailKind(row.kind), CODE
    )
    assert str(message["Subject"]).startswith(f"{code} — ")
    assert message["To"] == row.to_addr
    assert message["From"].addresses[0].display_name == "Văn phòng Sở"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() in ("multipart/alternative", "multipart/mixed")
    for part in message.walk():
        assert part.defects == [], (row.kind, part.get_content_type(), part.defects)
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and html is not None
    assert "Kính gửi:" in text.get_content() and "Kính gửi:" in html.get_content()


def _check_links(
    sessions: sessionmaker[Session],
    settings: Settings,
    message: EmailMessage,
    row: Mail,
    expected: int,
) -> None:
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    found = links_in(text)
    assert len(found) == expected, (row.kind, found)
    assert links_in(html) == found
    assert "⟦" not in text and "⟦" not in html
    for url in found:
        token = token_of(url)
        assert url.startswith(f"{settings.public_base_url}/r/")
        assert token not in str(message["Subject"])
        with sessions.begin() as session:
            result = check_link(session, secret=SECRET.encode(), raw_token=token)
            assert result.outcome is LinkOutcome.VALID, (row.kind, result.outcome)
            assert result.link is not None
            assert result.link.recipient_email == row.to_addr
            if row.cycle_id is not None:
                assert result.link.recipient_unit == row.recipient


def _check_calendar(message: EmailMessage, row: Mail) -> None:
    [ics] = list(message.iter_attachments())
    assert ics.get_content_type() == "text/calendar" and ics.get_param("method") == "PUBLISH"
    calendar = Calendar.from_ical(ics.get_content())
    [event] = calendar.walk("VEVENT")
    assert str(event["SUMMARY"]).startswith(f"{CODE} — Hạn")
    assert "/r/" not in str(event.get("URL"))
