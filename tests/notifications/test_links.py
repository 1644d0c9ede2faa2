"""Links: only the hash is stored, and every misuse of a token is refused by the check."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage, Verdict
from duyet.settings import Settings, SettingsError
from notifications.links import (
    Binding,
    LinkOutcome,
    check_link,
    issue_link,
    link_expiry,
    link_url,
    make_token,
)
from records.decisions import decide_by_token
from records.documents import version_of_round
from records.models import AuditEvent, LinkToken
from records.tokens import hash_token, revoke_token
from tests.notifications.factories import (
    ACTOR,
    BASE_URL,
    PARTNERS,
    SECRET,
    both_databases,
    in_review,
    settings_for,
)

SECRET_BYTES = SECRET.encode()


def issue(
    sessions: sessionmaker[Session], settings: Settings, cycle_id: str, unit: str, seed: str = "m1"
) -> tuple[int, str]:
    """Issue a review link for `unit`; the link id and its raw token."""
    with sessions.begin() as session:
        version = version_of_round(session, cycle_id=cycle_id, round=1)
        assert version is not None
        binding = Binding(cycle_id, Stage.REVIEW, 1, unit, version.sha256)
        link_id = issue_link(
            session,
            settings=settings,
            seed=seed,
            binding=binding,
            recipient_email=f"{unit}@svhttdl.example",
            deadline=datetime.now(UTC).date() + timedelta(days=3),
            actor=ACTOR,
            now=datetime.now(UTC),
        )
    return link_id, make_token(SECRET_BYTES, binding, seed=seed)


def check(sessions: sessionmaker[Session], raw: str, **kw: Any) -> LinkOutcome:
    with sessions.begin() as session:
        return check_link(session, secret=SECRET_BYTES, raw_token=raw, **kw).outcome


@pytest.fixture
def cycle_id(sessions: sessionmaker[Session]) -> str:
    return in_review(sessions)


@both_databases
def test_a_fresh_link_passes_and_only_its_hash_is_stored(
    sessions: sessionmaker[Session], settings: Settings, cycle_id: str
) -> None:
    link_id, raw = issue(sessions, settings, cycle_id, PARTNERS[0])
    random, mac = raw.split(".")
    assert (len(random), len(mac)) == (32, 22)  # 192 + 132 bits
    with sessions.begin() as session:
        result = check_link(session, secret=SECRET_BYTES, raw_token=raw)
        assert result.ok and result.link is not None
        assert (result.link.id, result.link.recipient_unit) == (link_id, PARTNERS[0])
        stored = session.get(LinkToken, link_id)
        assert stored is not None and stored.token_hash == hash_token(raw)
        trail = " ".join(session.scalars(select(AuditEvent.payload)))
    assert raw not in trail and random not in trail
    assert link_url(settings, raw) == f"{BASE_URL}/r/{raw}"


@both_databases
def test_tampered_and_truncated_tokens_are_refused(
    sessions: sessionmaker[Session], settings: Settings, cycle_id: str
) -> None:
    _, raw = issue(sessions, settings, cycle_id, PARTNERS[0])
    flip = {"A": "B"}.get(raw[5], "A")
    assert check(sessions, raw[:5] + flip + raw[6:]) is LinkOutcome.UNKNOWN  # random part
    flip = {"A": "B"}.get(raw[-1], "A")
    assert check(sessions, raw[:-1] + flip) is LinkOutcome.UNKNOWN  # MAC part
    assert check(sessions, raw[:-1]) is LinkOutcome.MALFORMED
    assert check(sessions, raw.split(".")[0]) is LinkOutcome.MALFORMED
    assert check(sessions, raw + "=") is LinkOutcome.MALFORMED
    assert check(sessions, "") is LinkOutcome.MALFORMED


def test_a_malformed_token_is_refused_without_touching_the_database() -> None:
    class NoDatabase:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the check used session.{name}")

    result = check_link(cast(Session, NoDatabase()), secret=SECRET_BYTES, raw_token="abc.def")
    assert result.outcome is LinkOutcome.MALFORMED and result.link is None
    assert result.message == "Đường dẫn không đầy đủ: hãy mở đúng đường dẫn trong thư"


@both_databases
def test_expired_revoked_and_reused_links_are_refused(
    sessions: sessionmaker[Session], settings: Settings, cycle_id: str
) -> None:
    first, second, third = (issue(sessions, settings, cycle_id, unit)[1] for unit in PARTNERS[:3])
    assert check(sessions, first, now=datetime.now(UTC) + timedelta(days=30)) is (
        LinkOutcome.EXPIRED
    )
    with sessions.begin() as session:
        link = session.scalars(
            select(LinkToken).where(LinkToken.token_hash == hash_token(second))
        ).one()
        revoke_token(session, link_id=link.id, actor=ACTOR, reason="Ủy quyền")
    assert check(sessions, second) is LinkOutcome.REVOKED
    assert check(sessions, third) is LinkOutcome.VALID
    with sessions.begin() as session:
        decide_by_token(
            session,
            raw_token=third,
            verdict=Verdict.APPROVE,
            comment="Thống nhất",
            reviewer_person=None,
            client_ip="10.0.0.1",
            user_agent="test",
        )
    assert check(sessions, third) is LinkOutcome.USED


@both_databases
def test_another_recipients_token_is_refused(
    sessions: sessionmaker[Session], settings: Settings, cycle_id: str
) -> None:
    a_id, a_raw = issue(sessions, settings, cycle_id, PARTNERS[0])
    b_id, b_raw = issue(sessions, settings, cycle_id, PARTNERS[1])
    # Someone with write access moves A's token onto B's row, to act as B with A's link.
    with sessions.begin() as session:
        session.execute(update(LinkToken).where(LinkToken.id == a_id).values(token_hash="x" * 64))
        session.execute(
            update(LinkToken).where(LinkToken.id == b_id).values(token_hash=hash_token(a_raw))
        )
    assert check(sessions, a_raw) is LinkOutcome.FORGED
    # Or rewrites the recipient (or round, or document) a row is bound to.
    c_id, c_raw = issue(sessions, settings, cycle_id, PARTNERS[2])
    with sessions.begin() as session:
        session.execute(
            update(LinkToken).where(LinkToken.id == c_id).values(recipient_unit=PARTNERS[3])
        )
    assert check(sessions, c_raw) is LinkOutcome.FORGED
    assert check(sessions, b_raw) is LinkOutcome.UNKNOWN  # B's own token no longer matches


def test_tokens_derive_from_secret_seed_and_binding() -> None:
    binding = Binding("c1", "review", 1, "thanh-tra", "ab" * 32)
    token = make_token(SECRET_BYTES, binding, seed="key-1")
    assert make_token(SECRET_BYTES, binding, seed="key-1") == token
    others = {
        make_token(SECRET_BYTES, binding, seed="key-2"),
        make_token(b"another secret of at least 32 chars!", binding, seed="key-1"),
        make_token(SECRET_BYTES, Binding("c1", "review", 2, "thanh-tra", "ab" * 32), seed="key-1"),
        make_token(SECRET_BYTES, Binding("c1", "review", 1, "bao-tang", "ab" * 32), seed="key-1"),
    }
    assert token not in others and len(others) == 4


def test_expiry_is_the_end_of_the_deadline_day_plus_grace(tmp_path: Any) -> None:
    settings = settings_for("sqlite://", tmp_path, link_grace_days=5)
    morning = datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
    # 15/03 ends at 16/03 00:00 in Hồ Chí Minh (UTC+7); five days of grace after it.
    expected = datetime(2024, 3, 20, 17, 0, tzinfo=UTC)
    assert link_expiry(date(2024, 3, 15), settings=settings, now=morning) == expected
    # A link issued after its deadline (an escalation) still lives the grace days.
    late = datetime(2024, 3, 25, 1, 0, tzinfo=UTC)
    assert link_expiry(date(2024, 3, 15), settings=settings, now=late) == datetime(
        2024, 3, 30, 17, 0, tzinfo=UTC
    )


def test_links_are_built_from_settings_only(tmp_path: Any) -> None:
    with pytest.raises(SettingsError, match="DUYET_PUBLIC_BASE_URL"):
        link_url(settings_for("sqlite://", tmp_path, public_base_url=None), "t")
    slash = settings_for("sqlite://", tmp_path, public_base_url="https://x.example/duyet/")
    assert link_url(slash, "t") == "https://x.example/duyet/r/t"
