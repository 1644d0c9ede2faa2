from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import IllegalTransition, Stage
from records import cycles
from records.cycle_reads import get_cycle
from records.errors import CycleClosed, CycleMoved, CycleUnknown, NoDocument
from records.models import AuditEvent, ReviewCycle
from tests.records.factories import OFFICE, new_cycle, submit


def actions(session: Session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def advance(session: Session, cycle_id: str, target: Stage, round_change: int = 0) -> ReviewCycle:
    return cycles.advance_stage(
        session, cycle_id=cycle_id, target=target, actor=OFFICE, round_change=round_change
    )


def test_opened_cycle_starts_at_draft_round_one(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
    assert (cycle.stage, cycle.round, cycle.status) == ("draft", 1, "open")
    assert cycle.due == date(2024, 6, 30)
    assert cycle.plan_version == 1
    with sessions.begin() as session:
        payload = json.loads(session.scalars(select(AuditEvent.payload).limit(2)).all()[1])
    assert payload["line_code"] == "1.4.b"
    assert payload["plan_key"] == "kh-cchc-2024"
    assert payload["cycle_id"] == cycle.id


def test_full_path_to_publication(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        submit(session, cycle.id)
        for target in (Stage.REVIEW, Stage.APPROVAL, Stage.PUBLICATION):
            advance(session, cycle.id, target)
        published = cycles.publish_document(session, cycle_id=cycle.id, actor=OFFICE)
    assert (published.stage, published.status, published.outcome) == (
        "closed",
        "published",
        "published",
    )
    assert published.closed_at is not None
    with sessions.begin() as session:
        assert actions(session)[-4:] == [
            "stage.advanced",
            "stage.advanced",
            "stage.advanced",
            "document.published",
        ]


def test_sending_back_starts_the_next_round(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        advance(session, cycle.id, Stage.REVIEW)
        advance(session, cycle.id, Stage.APPROVAL)
        back = advance(session, cycle.id, Stage.DRAFT, round_change=1)
    assert (back.stage, back.round) == ("draft", 2)


@pytest.mark.parametrize(
    ("path", "target", "round_change"),
    [
        ((), Stage.PUBLICATION, 0),  # skipping review and approval
        ((Stage.REVIEW,), Stage.DRAFT, 0),  # sent back without a new round
        ((Stage.REVIEW, Stage.APPROVAL), Stage.REVIEW, 0),  # backwards
        ((Stage.REVIEW, Stage.APPROVAL, Stage.PUBLICATION), Stage.CLOSED, 0),  # needs publish
    ],
)
def test_illegal_stage_change_is_refused_and_changes_nothing(
    sessions: sessionmaker[Session], path: tuple[Stage, ...], target: Stage, round_change: int
) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        for stage in path:
            advance(session, cycle.id, stage)
        events_before = len(actions(session))
    with pytest.raises(IllegalTransition), sessions.begin() as session:
        advance(session, cycle.id, target, round_change)
    with sessions.begin() as session:
        after = get_cycle(session, cycle_id=cycle.id)
        assert after.stage == (path[-1] if path else Stage.DRAFT)
        assert len(actions(session)) == events_before


def test_publication_needs_a_document(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        for target in (Stage.REVIEW, Stage.APPROVAL, Stage.PUBLICATION):
            advance(session, cycle.id, target)
    with pytest.raises(NoDocument), sessions.begin() as session:
        cycles.publish_document(session, cycle_id=cycle.id, actor=OFFICE)


def test_cancelled_cycle_is_closed_for_good(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        advance(session, cycle.id, Stage.REVIEW)
        cancelled = cycles.cancel_cycle(
            session, cycle_id=cycle.id, actor=OFFICE, reason="Nhiệm vụ đã bãi bỏ"
        )
    assert (cancelled.stage, cancelled.status, cancelled.outcome) == (
        "closed",
        "cancelled",
        "cancelled",
    )
    with pytest.raises(CycleClosed), sessions.begin() as session:
        advance(session, cycle.id, Stage.APPROVAL)
    with pytest.raises(IllegalTransition), sessions.begin() as session:
        cycles.cancel_cycle(session, cycle_id=cycle.id, actor=OFFICE, reason="lần hai")
    with sessions.begin() as session:
        payload = json.loads(
            session.scalars(select(AuditEvent.payload).order_by(AuditEvent.seq.desc())).first()
            or "{}"
        )
    assert payload["reason"] == "Nhiệm vụ đã bãi bỏ"
    assert payload["from_stage"] == "review"


def test_a_stale_copy_cannot_move_the_cycle(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
    with sessions.begin() as other:  # someone else moves it meanwhile
        other.execute(update(ReviewCycle).values(stage="review").where(ReviewCycle.id == cycle.id))
    with pytest.raises(CycleMoved), sessions.begin() as session:
        stale = session.merge(cycle, load=False)
        cycles._compare_and_set(session, stale, stage=Stage.REVIEW)


def test_flow_run_is_attached_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        for _ in range(2):
            cycles.attach_flow_run(session, cycle_id=cycle.id, flow_run_id="run-1", actor="flow")
        assert actions(session).count("cycle.flow_attached") == 1
        assert get_cycle(session, cycle_id=cycle.id).flow_run_id == "run-1"


def test_unknown_cycle(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(CycleUnknown), sessions.begin() as session:
        get_cycle(session, cycle_id="nope")


def test_constraint_refuses_an_impossible_row(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
    with pytest.raises(IntegrityError), sessions.begin() as session:
        session.execute(
            update(ReviewCycle).values(status="published").where(ReviewCycle.id == cycle.id)
        )
