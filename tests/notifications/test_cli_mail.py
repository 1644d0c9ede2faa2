"""`duyet mail outbox | retry | send`, run as a user runs them."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from definitions.units import UnitDirectory
from duyet.cli import app
from duyet.settings import Settings
from notifications import dispatch
from records.models import AuditEvent, Mail
from records.outbox import mark_failed
from tests.notifications.conftest import SmtpServer
from tests.notifications.factories import ACTOR, SECRET, in_review

runner = CliRunner()


def env_of(settings: Settings) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "DUYET_DATABASE_URL": settings.database_url,
        "DUYET_VAR_DIR": str(settings.var_dir),
        "DUYET_SECRET_KEY": SECRET,
        "DUYET_PUBLIC_BASE_URL": str(settings.public_base_url),
        "DUYET_SMTP_FROM": str(settings.smtp_from),
        "DUYET_SMTP_TIMEOUT": "5",
        "COLUMNS": "200",
    }
    if settings.smtp_host:
        env |= {"DUYET_SMTP_HOST": settings.smtp_host, "DUYET_SMTP_PORT": str(settings.smtp_port)}
    else:
        env["DUYET_SMTP_HOST"] = None  # whatever the developer's shell says
    return env


def queue(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> list[Mail]:
    cycle_id = in_review(sessions)
    with sessions.begin() as session:
        mails = dispatch.request_review(
            session, settings=settings, directory=directory, cycle_id=cycle_id, round=1, actor=ACTOR
        )
        mark_failed(
            session,
            mail_id=mails[0].id,
            error="550 5.1.1 no such user",
            backoff=timedelta(minutes=1),
            max_attempts=1,
            actor=ACTOR,
        )
    return mails


def test_outbox_lists_pending_and_dead_mail(
    sessions: sessionmaker[Session], mail_settings: Settings, directory: UnitDirectory
) -> None:
    mails = queue(sessions, mail_settings, directory)
    env = env_of(mail_settings)
    table = runner.invoke(app, ["mail", "outbox"], env=env)
    assert table.exit_code == 0, table.output
    assert "Hàng đợi thư" in table.output
    assert "không gửi được" in table.output and "chờ gửi" in table.output
    assert "550 5.1.1 no such user" in table.output
    assert "Đề nghị góp ý" in table.output
    listed = runner.invoke(app, ["mail", "outbox", "--json"], env=env)
    rows = json.loads(listed.output)
    assert sorted(row["id"] for row in rows) == sorted(m.id for m in mails)
    assert {row["status"] for row in rows} == {"pending", "dead"}
    dead = runner.invoke(app, ["mail", "outbox", "--status", "dead", "--json"], env=env)
    assert [row["id"] for row in json.loads(dead.output)] == [mails[0].id]
    none = runner.invoke(app, ["mail", "outbox", "--status", "sent"], env=env)
    assert none.exit_code == 0 and "Không có thư nào." in none.output


def test_retry_puts_a_dead_mail_back_and_send_delivers_it(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    mails = queue(sessions, mail_settings, directory)
    env = env_of(mail_settings)
    sent = runner.invoke(app, ["mail", "send", "--once"], env=env)
    assert sent.exit_code == 0, sent.output
    assert f"Đã gửi {len(mails) - 1} thư" in sent.output
    retried = runner.invoke(app, ["mail", "retry", str(mails[0].id)], env=env)
    assert retried.exit_code == 0, retried.output
    assert f"Thư {mails[0].id} sẽ được gửi lại ngay" in retried.output
    with sessions.begin() as session:
        row = session.get_one(Mail, mails[0].id)
        assert (row.status, row.attempts) == ("pending", 0)
        actions = session.scalars(select(AuditEvent.action)).all()
        assert "mail.retried" in actions
    again = runner.invoke(app, ["mail", "send", "--once"], env=env)
    assert again.exit_code == 0 and "Đã gửi 1 thư" in again.output
    assert len(smtp.recorder.received) == len(mails)
    refused = runner.invoke(app, ["mail", "retry", str(mails[0].id)], env=env)
    assert refused.exit_code == 1 and "đã được gửi" in refused.output


def test_send_reports_a_server_that_is_down(
    sessions: sessionmaker[Session],
    mail_settings: Settings,
    directory: UnitDirectory,
    smtp: SmtpServer,
) -> None:
    queue(sessions, mail_settings, directory)
    smtp.stop()
    down = runner.invoke(app, ["mail", "send", "--once"], env=env_of(mail_settings))
    assert down.exit_code == 1
    assert f"Không gửi được qua máy chủ thư 127.0.0.1:{smtp.port}" in down.output


def test_send_needs_an_smtp_host(settings: Settings) -> None:
    result = runner.invoke(app, ["mail", "send", "--once"], env=env_of(settings))
    assert result.exit_code == 2
    assert "DUYET_SMTP_HOST" in result.output
