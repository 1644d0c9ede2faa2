"""An outbox row on the wire: stable headers, the subject intact, slots filled, and refusals."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email import policy
from email.utils import parsedate_to_datetime

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import dispatch
from notifications.links import LinkMismatch, resolve_links
from notifications.message import MissingDocument, build_message, prepare
from notifications.sender import DeliveryReport, run_sender
from records.models import Mail
from records.outbox import enqueue_mail, get_mail
from tests.notifications.conftest import SmtpServer
from tests.notifications.factories import ACTOR, CODE, in_review, links_in, parse

ROTATED = SecretStr("another-secret-key-of-32-characters!")
LONG_SUBJECT = (
    f"{CODE} — Quá hạn lấy ý kiến (vòng 1): Thanh tra Sở, Phòng Quản lý Văn hóa, "
    "Phòng Quản lý Thể dục thể thao, Phòng Quản lý Du lịch  (hai khoảng trắng)"
)


def review_mail(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> Mail:
    cycle_id = in_review(sessions)
    with sessions.begin() as session:
        return dispatch.request_review(
            session, settings=settings, directory=directory, cycle_id=cycle_id, round=1, actor=ACTOR
        )[0]


def test_headers_come_from_the_row_and_a_long_subject_keeps_its_spaces(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    mail = review_mail(sessions, settings, directory)
    mail.subject = LONG_SUBJECT  # (not committed)
    with sessions.begin() as session:
        urls = resolve_links(session, settings=settings, mail=mail)
    built = [
        build_message(
            mail,
            sender="duyet@svhttdl.example",
            sender_name="Văn phòng Sở",
            urls=urls,
            documents={},
        )
        for _ in range(2)
    ]
    raw = [message.as_bytes(policy=policy.SMTP) for message in built]
    assert all(len(line) <= 78 for line in raw[0].split(b"\r\n"))
    first, second = (parse(data) for data in raw)
    assert first["Subject"] == LONG_SUBJECT  # CPython's own folding would drop a space here
    assert first["Message-ID"] == second["Message-ID"] == mail.message_id
    assert parsedate_to_datetime(first["Date"]) == mail.created_at.replace(microsecond=0)
    assert first["Date"] == second["Date"]
    assert first["From"].addresses[0].display_name == "Văn phòng Sở"
    text = first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = first.get_body(("html",)).get_content()  # type: ignore[union-attr]
    [url] = urls.values()
    assert links_in(text) == [url] and links_in(html) == [url]


def test_a_changed_secret_refuses_to_fill_the_slots(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    mail = review_mail(sessions, settings, directory)
    other = settings.model_copy(update={"secret_key": ROTATED})
    with sessions.begin() as session, pytest.raises(LinkMismatch):
        resolve_links(session, settings=other, mail=get_mail(session, mail_id=mail.id))


def test_a_missing_stored_document_is_refused(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    with sessions.begin() as session:
        mail = enqueue_mail(
            session,
            cycle_id=None,
            stage="report",
            round=1,
            recipient="van-phong",
            kind="report",
            to_addr="vanphong@svhttdl.example",
            subject=f"{CODE} — Báo cáo",
            text="Kính gửi: Văn phòng Sở",
            html=None,
            message_domain="svhttdl.example",
            actor=ACTOR,
            attachments=[{"filename": "bao-cao.pdf", "sha256": "ef" * 32}],
        )
        with pytest.raises(MissingDocument):
            prepare(session, mail, settings=settings, directory=directory)


def test_mail_that_cannot_be_built_fails_without_reaching_the_server(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    review_mail(sessions, mail_settings, directory)
    other = mail_settings.model_copy(update={"secret_key": ROTATED})
    stop = asyncio.Event()
    reports: list[DeliveryReport] = []

    def seen(report: DeliveryReport) -> None:
        reports.append(report)
        stop.set()

    async def once() -> None:
        await run_sender(
            sessions, other, directory=directory, interval=1, stop=stop, on_report=seen
        )

    asyncio.run(once())
    [report] = reports
    assert (report.sent, report.failed) == (0, 4)
    assert smtp.recorder.received == []
    with sessions.begin() as session:
        row = session.get_one(Mail, 1)
        assert row.last_error is not None and row.last_error.startswith("LinkMismatch")
        assert row.next_attempt_at > datetime.now(UTC)
