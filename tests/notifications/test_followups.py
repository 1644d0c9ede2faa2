"""Chasing deadlines: reminders to the silent units, escalation to heads and the board."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from definitions.units import UnitDirectory
from duyet.settings import Settings
from notifications import dispatch
from notifications.links import SLOT_PATTERN
from records.models import LinkToken, Mail
from tests.notifications.factories import (
    ACTOR,
    PARTNERS,
    advance,
    count,
    decide,
    in_review,
    review,
)


def test_reminders_go_to_the_silent_units_once_per_day_count(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    review(sessions, settings, directory, cycle_id)

    def remind(days: int) -> list[Mail]:
        with sessions.begin() as session:
            return dispatch.send_reminder(
                session,
                settings=settings,
                directory=directory,
                cycle_id=cycle_id,
                stage=Stage.REVIEW,
                round=1,
                days_left=days,
                actor=ACTOR,
            )

    with sessions.begin() as session:
        decide(session, cycle_id, Stage.REVIEW, 1, PARTNERS[0], Verdict.APPROVE, "")
    two = remind(2)
    assert [m.recipient for m in two] == PARTNERS[1:]
    assert [m.id for m in remind(2)] == [m.id for m in two]
    one = remind(1)
    assert {m.id for m in one}.isdisjoint({m.id for m in two})
    assert "Nhắc hạn" in one[0].subject
    with sessions.begin() as session:
        assert count(session, LinkToken) == len(PARTNERS) + 2 * 3  # a fresh link each
        advance(session, cycle_id, Stage.APPROVAL)
    assert remind(0) == []  # moved on: nothing to remind of


def test_escalation_goes_to_the_heads_then_the_board(
    sessions: sessionmaker[Session], settings: Settings, directory: UnitDirectory
) -> None:
    cycle_id = in_review(sessions)
    review(sessions, settings, directory, cycle_id)

    def escalate(to: str, units: list[str] | None = None) -> list[Mail]:
        with sessions.begin() as session:
            return dispatch.escalate(
                session,
                settings=settings,
                directory=directory,
                cycle_id=cycle_id,
                stage=Stage.REVIEW,
                round=1,
                to=to,  # type: ignore[arg-type]
                days_overdue=1,
                actor=ACTOR,
                units=units,
            )

    heads = escalate("head")
    assert [m.to_addr for m in heads] == [
        directory.unit(u).head.email  # type: ignore[union-attr]
        for u in PARTNERS
    ]
    assert "Kính gửi: Ông/Bà Lê Văn Bình, Chánh Thanh tra, Thanh tra Sở" in heads[0].text_body
    assert all(len(SLOT_PATTERN.findall(m.text_body)) == 1 for m in heads)
    [headless] = escalate("head", units=["bao-tang"])
    assert headless.to_addr == "baotang@svhttdl.example"
    assert "Kính gửi: Thủ trưởng Bảo tàng tỉnh" in headless.text_body
    [board] = escalate("board")
    assert board.to_addr == directory.unit("ban-giam-doc").email
    assert SLOT_PATTERN.search(board.text_body) is None and board.attachments == []
    assert "Thanh tra Sở, Phòng Quản lý Văn hóa" in board.subject
    assert [m.id for m in escalate("board")] == [board.id]
