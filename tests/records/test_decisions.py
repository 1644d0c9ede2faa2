from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from records import audit, decisions
from records.cycles import advance_stage
from records.errors import AlreadyDecided, CycleMoved
from records.models import AuditEvent, Decision
from records.tokens import issue_token, lookup_token
from tests.records.factories import OFFICE, REVIEWERS, cycle_in_review, decide, in_threads


def record(session: Session, cycle_id: str, sha256: str, unit: str, comment: str) -> Decision:
    return decisions.record_decision(
        session,
        cycle_id=cycle_id,
        stage=Stage.REVIEW,
        round=1,
        reviewer_unit=unit,
        reviewer_person="Trần Văn Bình",
        verdict=Verdict.CHANGES,
        comment=comment,
        document_sha256=sha256,
    )


def decision_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Decision)) or 0


def test_decision_through_a_link_records_who_what_when_and_how(
    sessions: sessionmaker[Session],
) -> None:
    review = cycle_in_review(sessions)
    decision = decide(sessions, review.links["thanh-tra"], comment="Bổ sung căn cứ pháp lý.")
    assert (decision.reviewer_unit, decision.stage, decision.round) == ("thanh-tra", "review", 1)
    assert (decision.client_ip, decision.user_agent) == ("10.0.0.7", "Firefox")
    assert decision.document_sha256 == review.sha256
    assert decision.token_id is not None
    with sessions.begin() as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert event is not None
    assert event.action == "decision.recorded"
    assert event.actor == "thanh-tra:Nguyễn Thị Hoa"
    payload = json.loads(event.payload)
    assert payload["comment"] == "Bổ sung căn cứ pháp lý."
    assert payload["link_id"] == decision.token_id
    assert payload["line_code"] == "1.4.b"


def test_second_decision_of_a_unit_is_refused_and_the_transaction_goes_on(
    sessions: sessionmaker[Session],
) -> None:
    review = cycle_in_review(sessions)
    with sessions.begin() as session:
        first = record(session, review.cycle_id, review.sha256, "thanh-tra", "Lần một")
        with pytest.raises(AlreadyDecided) as caught:
            record(session, review.cycle_id, review.sha256, "thanh-tra", "Lần hai")
        record(session, review.cycle_id, review.sha256, "phong-tcpc", "Đơn vị khác")
    assert caught.value.existing.id == first.id
    assert caught.value.existing.comment == "Lần một"
    assert caught.value.message == "Đơn vị thanh-tra đã cho ý kiến ở giai đoạn «lấy ý kiến», vòng 1"
    with sessions.begin() as session:
        assert decision_count(session) == 2
        assert audit.verify(session).intact


def test_constraint_catches_a_duplicate_the_check_missed(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    review = cycle_in_review(sessions)
    with sessions.begin() as session:
        record(session, review.cycle_id, review.sha256, "thanh-tra", "Lần một")
    real_find = decisions.find_decision
    calls: list[int] = []

    def blind_first(session: Session, **where: object) -> Decision | None:
        calls.append(1)
        return None if len(calls) == 1 else real_find(session, **where)  # type: ignore[arg-type]

    monkeypatch.setattr(decisions, "find_decision", blind_first)
    with sessions.begin() as session:
        with pytest.raises(AlreadyDecided):
            record(session, review.cycle_id, review.sha256, "thanh-tra", "Lần hai")
        record(session, review.cycle_id, review.sha256, "phong-tcpc", "Vẫn ghi được")
    with sessions.begin() as session:
        assert decision_count(session) == 2
        assert audit.verify(session).intact


def test_decision_for_a_stage_that_has_passed_is_refused(
    sessions: sessionmaker[Session],
) -> None:
    review = cycle_in_review(sessions)
    with sessions.begin() as session:
        advance_stage(session, cycle_id=review.cycle_id, target=Stage.APPROVAL, actor=OFFICE)
    with pytest.raises(CycleMoved):
        decide(sessions, review.links["thanh-tra"])
    with sessions.begin() as session:
        assert decision_count(session) == 0


def test_two_reviewers_deciding_at_once_are_both_recorded(
    sessions: sessionmaker[Session],
) -> None:
    review = cycle_in_review(sessions)
    results = in_threads(2, lambda i: decide(sessions, review.links[REVIEWERS[i]]).reviewer_unit)
    assert sorted(r for r in results if isinstance(r, str)) == sorted(REVIEWERS), results
    with sessions.begin() as session:
        assert decision_count(session) == 2
        report = audit.verify(session)
    assert report.intact
    assert report.entries == 8


def test_one_reviewer_through_two_links_at_once_decides_once(
    sessions: sessionmaker[Session],
) -> None:
    review = cycle_in_review(sessions, reviewers=["thanh-tra"])
    with sessions.begin() as session:  # a second link for the same unit (mail sent again)
        second = issue_token(
            session,
            cycle_id=review.cycle_id,
            stage=Stage.REVIEW,
            round=1,
            recipient_unit="thanh-tra",
            recipient_email="thanhtra@svhttdl.example",
            document_sha256=review.sha256,
            expires_at=audit.utcnow() + timedelta(days=7),
            actor=OFFICE,
        )
    links = [review.links["thanh-tra"], second]
    results = in_threads(2, lambda i: decide(sessions, links[i]).id)
    assert len([r for r in results if isinstance(r, int)]) == 1, results
    refused = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(refused) == 1, results
    with sessions.begin() as session:
        assert decision_count(session) == 1
        assert audit.verify(session).intact


def test_a_refused_link_decision_leaves_the_link_unused(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    with sessions.begin() as session:
        record(session, review.cycle_id, review.sha256, "thanh-tra", "Qua văn bản giấy")
    # The caller catches the refusal and still commits.
    with sessions.begin() as session, pytest.raises(AlreadyDecided):
        decisions.decide_by_token(
            session,
            raw_token=review.links["thanh-tra"],
            verdict=Verdict.APPROVE,
            comment="",
            reviewer_person=None,
            client_ip=None,
            user_agent=None,
        )
    with sessions.begin() as session:
        token = lookup_token(
            session, raw_token=review.links["thanh-tra"], client_ip=None, user_agent=None
        )
        assert token.used_at is None
