"""What the flows call: mail and links queued in the caller's transaction, once."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import dispatch
from notifications.facts import MissingDeadline
from notifications.links import SLOT_PATTERN, resolve_links
from records.models import AuditEvent, LinkToken, Mail, ReviewCycle
from records.outbox import get_mail
from records.tokens import NO_DOCUMENT
from tests.notifications.factories import (
    ACTOR,
    CODE,
    LEAD,
    PARTNERS,
    advance,
    both_databases,
    count,
    decide,
    in_review,
    new_cycle,
    review,
    submit,
    token_of,
)


@both_databases
def test_review_requests_go_to_each_coordinating_unit_once(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    mails = review(sessions, settings, directory, cycle_id)
    # The group expands, the raw text and the lead unit get no request.
    assert [m.recipient for m in mails] == PARTNERS
    assert [m.to_addr for m in mails] == [directory.unit(u).email for u in PARTNERS]
    with sessions.begin() as session:
        links = session.scalars(select(LinkToken).order_by(LinkToken.id)).all()
        events = count(session, AuditEvent)
    assert [link.recipient_unit for link in links] == PARTNERS
    assert {link.recipient_email for link in links} == {m.to_addr for m in mails}
    again = review(sessions, settings, directory, cycle_id)  # a replayed task
    assert [m.id for m in again] == [m.id for m in mails]
    with sessions.begin() as session:
        assert count(session, LinkToken) == len(PARTNERS)
        assert count(session, Mail) == len(PARTNERS)
        assert count(session, AuditEvent) == events


@both_databases
def test_queued_mail_holds_a_slot_never_a_token(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    [mail, *_] = review(sessions, settings, directory, cycle_id)
    assert len(SLOT_PATTERN.findall(mail.text_body)) == 1
    assert len(SLOT_PATTERN.findall(mail.html_body or "")) == 1
    with sessions.begin() as session:
        urls = resolve_links(session, settings=settings, mail=get_mail(session, mail_id=mail.id))
    [url] = urls.values()
    token = token_of(url)
    assert token not in mail.text_body and token not in (mail.html_body or "")
    assert token not in str(mail.attachments)
    assert mail.subject.startswith(f"{CODE} — Đề nghị góp ý dự thảo (vòng 1)")


def test_mail_and_links_roll_back_with_the_caller(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    with pytest.raises(RuntimeError), sessions.begin() as session:
        advance(session, cycle_id, Stage.APPROVAL)  # a state change and its mail…
        decide(session, cycle_id, Stage.APPROVAL, 1, "ban-giam-doc", Verdict.APPROVE, "")
        dispatch.request_approval(
            session, settings=settings, directory=directory, cycle_id=cycle_id, round=1, actor=ACTOR
        )
        raise RuntimeError("the flow task fails before commit")
    with sessions.begin() as session:
        assert count(session, Mail) == count(session, LinkToken) == 0


def test_a_replay_after_the_cycle_moved_on_queues_nothing(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    mails = review(sessions, settings, directory, cycle_id)
    with sessions.begin() as session:
        advance(session, cycle_id, Stage.APPROVAL)
    assert [m.id for m in review(sessions, settings, directory, cycle_id)] == [m.id for m in mails]


def test_draft_requests_and_changes_carry_the_comments(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        [draft] = dispatch.request_draft(
            session, settings=settings, directory=directory, cycle_id=cycle.id, round=1, actor=ACTOR
        )
        [link] = session.scalars(select(LinkToken)).all()
        assert (draft.recipient, link.stage, link.document_sha256) == (LEAD, "draft", NO_DOCUMENT)
        submit(session, cycle.id)
        advance(session, cycle.id, Stage.REVIEW)
        decide(session, cycle.id, Stage.REVIEW, 1, PARTNERS[0], Verdict.CHANGES, "Bổ sung căn cứ.")
        decide(session, cycle.id, Stage.REVIEW, 1, PARTNERS[1], Verdict.APPROVE, "Nhất trí.")
        advance(session, cycle.id, Stage.DRAFT, back=True)
        [changes] = dispatch.notify_changes_requested(
            session, settings=settings, directory=directory, cycle_id=cycle.id, round=2, actor=ACTOR
        )
        newest = session.scalars(select(LinkToken).order_by(LinkToken.id.desc())).first()
        assert newest is not None and newest.round == 2
        assert newest.document_sha256 != NO_DOCUMENT  # bound to the version commented on
    assert "Bổ sung căn cứ." in changes.text_body and "Nhất trí." in changes.text_body
    assert "Thanh tra Sở" in changes.text_body and "vòng 2" in changes.subject
    assert "Dự thảo vòng 1" in changes.text_body
    assert "Kính gửi: Phòng Tổ chức - Pháp chế" in changes.text_body


def test_a_request_needs_a_deadline(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    with sessions.begin() as session:
        session.get_one(ReviewCycle, cycle_id).stage_deadline = None
    with pytest.raises(MissingDeadline), sessions.begin() as session:
        dispatch.request_review(
            session, settings=settings, directory=directory, cycle_id=cycle_id, round=1, actor=ACTOR
        )
    with sessions.begin() as session:
        given = dispatch.request_review(
            session,
            settings=settings,
            directory=directory,
            cycle_id=cycle_id,
            round=1,
            actor=ACTOR,
            deadline=date(2030, 1, 15),
        )
    assert "hạn 15/01/2030" in given[0].subject
