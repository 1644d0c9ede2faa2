"""Mail that tells: digest, cancelled (links die), published (document attached), rejected,
dead letters to the Office."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import dispatch
from notifications.links import SLOT_PATTERN
from notifications.mail import Attachment
from records.cycles import cancel_cycle, publish_document
from records.models import LinkToken, Mail
from records.outbox import mark_failed
from tests.notifications.factories import (
    ACTOR,
    CODE,
    LEAD,
    OFFICE,
    PARTNERS,
    advance,
    both_databases,
    decide,
    in_review,
    new_cycle,
    review,
    submit,
)


def test_a_digest_lists_what_a_unit_still_has_to_do(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    first, second = in_review(sessions), in_review(sessions)
    with sessions.begin() as session:
        third = new_cycle(session, code="3.1").id  # at draft: the lead's to do
        decide(session, second, Stage.REVIEW, 1, "thanh-tra", Verdict.APPROVE, "")
        other = in_review_of(session, code="2.2.đ")

    # The caller (the sweeper) names the cycles where the unit has to act.
    def digest(on: date, unit: str = "thanh-tra", cycles: tuple[str, ...] = ()) -> list[Mail]:
        with sessions.begin() as session:
            return dispatch.send_digest(
                session,
                settings=settings,
                directory=directory,
                unit=unit,
                cycle_ids=cycles or (first, second, other, first),
                on=on,
                actor=ACTOR,
            )

    [mail] = digest(date(2024, 3, 4))
    assert len(SLOT_PATTERN.findall(mail.text_body)) == 2  # first and other; second is answered
    assert mail.subject.startswith(f"{CODE}, 2.2.đ — Tổng hợp 2 việc")
    assert [m.id for m in digest(date(2024, 3, 4))] == [mail.id]
    assert digest(date(2024, 3, 5), cycles=(second,)) == []  # answered already
    [lead] = digest(date(2024, 3, 4), unit=LEAD, cycles=(third,))
    assert "3.1" in lead.subject and "Mở trang nộp dự thảo" in lead.text_body


def in_review_of(session: Session, *, code: str) -> str:
    cycle = new_cycle(session, code=code)
    submit(session, cycle.id)
    advance(session, cycle.id, Stage.REVIEW)
    return cycle.id


def test_cancelling_revokes_open_links_and_tells_the_units(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    review(sessions, settings, directory, cycle_id)
    with sessions.begin() as session:
        cancel_cycle(session, cycle_id=cycle_id, actor=OFFICE, reason="Điều chỉnh kế hoạch")
        mails = dispatch.notify_cancelled(
            session,
            settings=settings,
            directory=directory,
            cycle_id=cycle_id,
            reason="Điều chỉnh kế hoạch",
            actor=ACTOR,
        )
        again = dispatch.notify_cancelled(
            session,
            settings=settings,
            directory=directory,
            cycle_id=cycle_id,
            reason="Điều chỉnh kế hoạch",
            actor=ACTOR,
        )
        links = session.scalars(select(LinkToken)).all()
    assert [m.recipient for m in mails] == [LEAD, *PARTNERS]
    assert [m.id for m in again] == [m.id for m in mails]
    assert all(link.revoked_at is not None for link in links)
    assert "đã dừng ở giai đoạn lấy ý kiến, vòng 1" in mails[0].text_body
    assert "Điều chỉnh kế hoạch" in mails[0].html_body  # type: ignore[operator]


def test_published_document_goes_to_its_recipients_attached(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    with sessions.begin() as session:
        advance(session, cycle_id, Stage.APPROVAL)
        advance(session, cycle_id, Stage.PUBLICATION)
        publish_document(session, cycle_id=cycle_id, actor=ACTOR)
        mails = dispatch.notify_published(
            session, settings=settings, directory=directory, cycle_id=cycle_id, actor=ACTOR
        )
    assert [m.recipient for m in mails] == [LEAD, *PARTNERS, OFFICE]
    [attachment] = [Attachment.from_record(a) for a in mails[0].attachments]
    assert attachment.content is None and attachment.sha256 is not None
    assert attachment.media_type == "application/pdf"


def test_rejection_tells_the_lead(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    with sessions.begin() as session:
        decide(session, cycle_id, Stage.REVIEW, 1, PARTNERS[0], Verdict.REJECT, "Không phù hợp.")
        [mail] = dispatch.notify_rejected(
            session,
            settings=settings,
            directory=directory,
            cycle_id=cycle_id,
            actor=ACTOR,
            reason="Quá số vòng tối đa",
        )
    assert mail.recipient == LEAD and "không được thông qua" in mail.subject
    assert "Không phù hợp." in mail.text_body and "Quá số vòng tối đa" in mail.text_body


@both_databases
def test_the_office_hears_of_a_dead_mail_once(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    [mail, *_] = review(sessions, settings, directory, cycle_id)

    def tell(mail_id: int) -> Mail | None:
        with sessions.begin() as session:
            return dispatch.notify_dead_letter(
                session, settings=settings, directory=directory, mail_id=mail_id, actor=ACTOR
            )

    assert tell(mail.id) is None  # not dead
    with sessions.begin() as session:
        mark_failed(
            session,
            mail_id=mail.id,
            error="550 5.1.1 no such user",
            backoff=timedelta(minutes=1),
            max_attempts=1,
            actor=ACTOR,
        )
    notice = tell(mail.id)
    assert notice is not None and notice.recipient == OFFICE
    assert notice.to_addr == directory.unit(OFFICE).email
    assert "550 5.1.1 no such user" in notice.text_body
    assert f"duyet mail retry {mail.id}" in notice.text_body
    assert notice.subject == f"{CODE} — Thư không gửi được tới {mail.to_addr}"
    again = tell(mail.id)
    assert again is not None and again.id == notice.id
    with sessions.begin() as session:
        mark_failed(
            session,
            mail_id=notice.id,
            error="421",
            backoff=timedelta(minutes=1),
            max_attempts=1,
            actor=ACTOR,
        )
    assert tell(notice.id) is None  # no dead letter about a dead letter
