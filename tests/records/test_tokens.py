from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from records.decisions import decide_by_token
from records.errors import (
    CycleMoved,
    NoDocument,
    TokenExpired,
    TokenRevoked,
    TokenUnknown,
    TokenUsed,
)
from records.models import AuditEvent, Decision, LinkToken
from records.tokens import consume_token, hash_token, issue_token, lookup_token, revoke_token
from tests.records.factories import OFFICE, REVIEWERS, cycle_in_review, decide, in_threads


def test_only_the_hash_is_stored(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    raw = review.links[REVIEWERS[0]]
    assert len(raw) >= 43
    with sessions.begin() as session:
        stored = session.scalars(select(LinkToken.token_hash)).all()
        trail = " ".join(session.scalars(select(AuditEvent.payload)))
    assert hash_token(raw) in stored
    assert raw not in stored
    assert raw not in trail


def test_opening_a_link_is_logged_and_decides_nothing(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    raw = review.links[REVIEWERS[0]]
    for _ in range(3):  # a mail scanner, then the reviewer, then again
        with sessions.begin() as session:
            token = lookup_token(session, raw_token=raw, client_ip="10.1.1.1", user_agent="Safe")
    assert token.used_at is None
    with sessions.begin() as session:
        opened = session.scalars(
            select(AuditEvent.payload).where(AuditEvent.action == "link.opened")
        ).all()
        assert session.scalar(select(func.count()).select_from(Decision)) == 0
    assert len(opened) == 3
    payload = json.loads(opened[0])
    assert (payload["state"], payload["client_ip"], payload["line_code"]) == (
        "valid",
        "10.1.1.1",
        "1.4.b",
    )


def test_unknown_link(sessions: sessionmaker[Session]) -> None:
    cycle_in_review(sessions)
    with pytest.raises(TokenUnknown), sessions.begin() as session:
        lookup_token(session, raw_token="forged", client_ip=None, user_agent=None)
    with pytest.raises(TokenUnknown), sessions.begin() as session:
        consume_token(session, raw_token="forged")


def test_expired_link_cannot_be_used(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    later = datetime.now(UTC) + timedelta(days=8)
    with pytest.raises(TokenExpired), sessions.begin() as session:
        consume_token(session, raw_token=review.links[REVIEWERS[0]], now=later)


def test_revoked_link_cannot_be_used(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    with sessions.begin() as session:
        link_id = lookup_token(
            session, raw_token=review.links[REVIEWERS[0]], client_ip=None, user_agent=None
        ).id
        revoke_token(session, link_id=link_id, actor=OFFICE, reason="Ủy quyền cho phó phòng")
    with pytest.raises(TokenRevoked), sessions.begin() as session:
        consume_token(session, raw_token=review.links[REVIEWERS[0]])


def test_used_link_tells_what_was_decided(sessions: sessionmaker[Session]) -> None:
    review = cycle_in_review(sessions)
    first = decide(sessions, review.links[REVIEWERS[0]])
    with pytest.raises(TokenUsed) as caught:
        decide(sessions, review.links[REVIEWERS[0]], comment="lần hai")
    assert caught.value.decision is not None
    assert caught.value.decision.id == first.id
    assert caught.value.message == "Đường dẫn đã được sử dụng"


def test_link_is_for_the_current_stage_and_a_known_document(
    sessions: sessionmaker[Session],
) -> None:
    review = cycle_in_review(sessions)

    def issue(session: Session, stage: Stage, document_sha256: str) -> str:
        return issue_token(
            session,
            cycle_id=review.cycle_id,
            stage=stage,
            round=1,
            recipient_unit="thanh-tra",
            recipient_email="thanhtra@svhttdl.example",
            document_sha256=document_sha256,
            expires_at=datetime.now(UTC) + timedelta(days=1),
            actor=OFFICE,
        )

    with pytest.raises(CycleMoved), sessions.begin() as session:
        issue(session, Stage.APPROVAL, review.sha256)
    with pytest.raises(NoDocument), sessions.begin() as session:
        issue(session, Stage.REVIEW, "0" * 64)


def test_twenty_threads_using_one_link_make_one_decision(
    sessions: sessionmaker[Session],
) -> None:
    review = cycle_in_review(sessions)
    raw = review.links[REVIEWERS[0]]

    def attempt(index: int) -> int:
        with sessions.begin() as session:
            return decide_by_token(
                session,
                raw_token=raw,
                verdict=Verdict.APPROVE,
                comment=f"nhấn lần {index}",
                reviewer_person=None,
                client_ip=f"10.0.0.{index}",
                user_agent="thread",
            ).id

    results = in_threads(20, attempt)
    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, TokenUsed)]
    assert len(winners) == 1, results
    assert len(losers) == 19, results
    assert {loser.decision.id for loser in losers if loser.decision} == set(winners)
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 1
        recorded = select(func.count()).where(AuditEvent.action == "decision.recorded")
        assert session.scalar(recorded) == 1
