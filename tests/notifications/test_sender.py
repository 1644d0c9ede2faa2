"""Delivery over real SMTP (aiosmtpd on loopback): nothing lost, nothing sent twice but with the
same Message-ID, one connection for a whole batch."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from definitions.units import UnitDirectory
from duyet.settings import PROJECT_ROOT, Settings
from notifications import dispatch
from notifications.sender import DeliveryReport, backoff, claim_lease, deliver_due
from notifications.smtp import Connection
from records import audit
from records.models import LinkToken, Mail
from records.outbox import due_mail, enqueue_mail, retry_mail
from tests.notifications.conftest import SmtpServer
from tests.notifications.factories import (
    ACTOR,
    CODE,
    OFFICE,
    SECRET,
    both_databases,
    deliver,
    in_review,
)


def queue_review(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> list[Mail]:
    cycle_id = in_review(sessions)
    with sessions.begin() as session:
        return dispatch.request_review(
            session, settings=settings, directory=directory, cycle_id=cycle_id, round=1, actor=ACTOR
        )


@both_databases
def test_smtp_down_loses_nothing_and_sends_each_once_when_back(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    mails = queue_review(sessions, mail_settings, directory)
    smtp.stop()
    down = deliver(sessions, mail_settings, directory)
    assert (down.sent, down.failed, down.connections) == (0, 0, 0)
    assert down.error is not None and "SMTPConnectError" in down.error
    with sessions.begin() as session:
        rows = session.scalars(select(Mail)).all()
        assert {(m.status, m.attempts) for m in rows} == {("pending", 0)}  # no attempt spent
    smtp.start()
    back = deliver(sessions, mail_settings, directory)
    assert (back.sent, back.error, back.connections) == (len(mails), None, 1)
    assert deliver(sessions, mail_settings, directory).sent == 0
    ids = smtp.recorder.message_ids()
    assert sorted(ids) == sorted(m.message_id for m in mails)  # each exactly once


def test_a_dropped_connection_is_reopened_and_the_lost_mail_retried(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    mails = queue_review(sessions, mail_settings, directory)
    smtp.recorder.drop_before_storing.add(mails[1].message_id)
    first = deliver(sessions, mail_settings, directory)
    assert (first.sent, first.failed, first.connections) == (3, 1, 2)
    with sessions.begin() as session:
        lost = session.get_one(Mail, mails[1].id)
        assert (lost.status, lost.attempts) == ("pending", 1)
        assert lost.last_error and "SMTPServerDisconnected" in lost.last_error
        retry_at = lost.next_attempt_at
    assert (
        deliver(sessions, mail_settings, directory, now=retry_at - timedelta(seconds=1)).sent == 0
    )
    assert deliver(sessions, mail_settings, directory, now=retry_at).sent == 1
    assert sorted(smtp.recorder.message_ids()) == sorted(m.message_id for m in mails)


def test_when_the_server_stays_away_the_untried_claims_are_released(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mails = queue_review(sessions, mail_settings, directory)
    smtp.recorder.drop_before_storing.add(mails[1].message_id)
    opened = Connection.open

    async def once_only(self: Connection) -> None:
        if self.opened:
            raise ConnectionRefusedError("the server went away")
        await opened(self)

    monkeypatch.setattr(Connection, "open", once_only)
    report = deliver(sessions, mail_settings, directory)
    assert (report.sent, report.failed) == (1, 1)
    assert report.error == "ConnectionRefusedError: the server went away"
    with sessions.begin() as session:
        rows = [session.get_one(Mail, m.id) for m in mails]
        untried = [(row.status, row.attempts) for row in rows[2:]]
        due = {row.id for row in due_mail(session)}
    assert untried == [("pending", 0), ("pending", 0)]
    assert due == {mails[2].id, mails[3].id}  # released now, not after the claim's lease
    monkeypatch.setattr(Connection, "open", opened)
    assert deliver(sessions, mail_settings, directory).sent == 2


@both_databases
def test_after_max_attempts_the_mail_is_dead_and_the_office_told_once(
    sessions: sessionmaker[Session],
    db_url: str,
    tmp_path: Path,
    directory: UnitDirectory,
    smtp: SmtpServer,
    mail_settings: Settings,
) -> None:
    settings = mail_settings.model_copy(update={"mail_max_attempts": 2})
    mails = queue_review(sessions, settings, directory)
    refused = mails[0]
    smtp.recorder.refuse[refused.to_addr] = "550 5.1.1 no such user"
    first = deliver(sessions, settings, directory)
    assert (first.sent, first.failed, first.dead) == (3, 1, 0)
    later = audit.utcnow() + timedelta(hours=2)
    second = deliver(sessions, settings, directory, now=later)
    assert (second.dead, second.sent) == (1, 1)  # the dead letter went out in the same run
    office = directory.unit(OFFICE).email
    to_office = [r for r in smtp.recorder.received if r.rcpt_tos == [office]]
    [notice] = to_office
    assert notice.message["Subject"] == f"{CODE} — Thư không gửi được tới {refused.to_addr}"
    assert "550 5.1.1 no such user" in notice.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert deliver(sessions, settings, directory, now=later + timedelta(hours=2)).sent == 0
    # Fixed and retried by hand: it goes out; the Office is not told again.
    del smtp.recorder.refuse[refused.to_addr]
    with sessions.begin() as session:
        retry_mail(session, mail_id=refused.id, actor="cli:test", now=later)
    assert deliver(sessions, settings, directory, now=later + timedelta(hours=3)).sent == 1
    counts = Counter(r.rcpt_tos[0] for r in smtp.recorder.received)
    assert counts[refused.to_addr] == 1 and counts[office] == 1


def test_two_senders_at_once_send_each_mail_once(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    mails = queue_review(sessions, mail_settings, directory)

    async def both() -> list[DeliveryReport]:
        runs = [deliver_due(sessions, mail_settings, directory=directory) for _ in range(2)]
        return list(await asyncio.gather(*runs))

    reports = asyncio.run(both())
    assert sum(r.sent for r in reports) == len(mails)
    assert sorted(smtp.recorder.message_ids()) == sorted(m.message_id for m in mails)


@both_databases
def test_a_mail_goes_out_only_once_the_one_before_is_recorded_sent(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    # Messages are built ahead, but a crash between acceptance and record resends one mail.
    mails = queue_review(sessions, mail_settings, directory)
    recorded_before: list[int] = []

    def count_sent() -> None:
        with sessions.begin() as session:
            sent = session.scalars(select(Mail.id).where(Mail.status == "sent")).all()
            recorded_before.append(len(sent))

    smtp.recorder.on_store = count_sent
    assert deliver(sessions, mail_settings, directory).sent == len(mails)
    assert recorded_before == list(range(len(mails)))


@pytest.mark.slow
def test_a_thousand_mails_drain_over_one_connection(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    with sessions.begin() as session:
        for index in range(1000):
            enqueue_mail(
                session,
                cycle_id=None,
                stage="report",
                round=1,
                recipient=f"unit-{index}",
                kind="report",
                to_addr=f"unit{index}@svhttdl.example",
                subject=f"{CODE} — Báo cáo {index}",
                text=f"Kính gửi: đơn vị {index}",
                html=f"<p>Kính gửi: đơn vị {index}</p>",
                message_domain="svhttdl.example",
                actor=ACTOR,
            )
    started = time.monotonic()
    report = deliver(sessions, mail_settings, directory)
    elapsed = time.monotonic() - started
    print(f"1000 mails delivered in {elapsed:.1f} s")
    assert (report.sent, report.failed, report.connections) == (1000, 0, 1)
    assert len(smtp.recorder.received) == 1000
    assert len(set(smtp.recorder.message_ids())) == 1000
    assert smtp.recorder.ehlos == 1 and len(smtp.recorder.peers()) == 1
    assert elapsed < 60, elapsed  # speed is the benchmark's business; this only guards a hang


def test_a_sender_killed_after_acceptance_resends_with_the_same_message_id(
    sessions: sessionmaker[Session],
    db_url: str,
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    mails = queue_review(sessions, mail_settings, directory)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DUYET_")},
        "DUYET_DATABASE_URL": db_url,
        "DUYET_VAR_DIR": str(mail_settings.var_dir),
        "DUYET_SMTP_HOST": "127.0.0.1",
        "DUYET_SMTP_PORT": str(smtp.port),
        "DUYET_SMTP_FROM": str(mail_settings.smtp_from),
        "DUYET_SECRET_KEY": SECRET,
        "DUYET_PUBLIC_BASE_URL": str(mail_settings.public_base_url),
        "DUYET_SMTP_TIMEOUT": str(mail_settings.smtp_timeout),  # the same claim lease
    }
    code = (
        "import sys; from duyet.cli import main; "
        "sys.argv = ['duyet', 'mail', 'send', '--once']; main()"
    )
    smtp.recorder.kill_at = 2  # the first is sent and recorded; the second only sent
    sender = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=PROJECT_ROOT)
    smtp.recorder.kill_pid = sender.pid
    assert sender.wait(timeout=60) == -9
    with sessions.begin() as session:
        statuses = [session.get_one(Mail, m.id).status for m in mails]
    assert statuses == ["sent", "pending", "pending", "pending"]
    # Restarted once the dead sender's claim has lapsed.
    restart = audit.utcnow() + claim_lease(mail_settings) + timedelta(seconds=1)
    report = deliver(sessions, mail_settings, directory, now=restart)
    assert report.sent == 3
    ids = smtp.recorder.message_ids()
    assert Counter(ids) == {
        mails[0].message_id: 1,
        mails[1].message_id: 2,
        **{m.message_id: 1 for m in mails[2:]},
    }
    first, again = [
        r.message for r in smtp.recorder.received if r.message["Message-ID"] == mails[1].message_id
    ]
    assert first["Date"] == again["Date"]
    body = first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert body == again.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    with sessions.begin() as session:
        assert all(session.get_one(Mail, m.id).status == "sent" for m in mails)
        assert session.scalars(select(LinkToken)).all()  # the links behind them still one each


def test_backoff_doubles_with_equal_jitter_up_to_the_cap(tmp_path: Path) -> None:
    import random

    from tests.notifications.factories import settings_for

    settings = settings_for("sqlite://", tmp_path)  # 60 s, doubling, capped at 600 s
    rng = random.Random(4)
    for attempts, full in ((1, 60), (2, 120), (3, 240), (4, 480), (5, 600), (40, 600)):
        for _ in range(20):
            wait = backoff(attempts, settings=settings, rng=rng).total_seconds()
            assert full / 2 <= wait <= full
