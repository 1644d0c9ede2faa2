from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from definitions.stage_rules import Stage
from duyet.settings import get_settings
from records.cycles import advance_stage
from records.documents import document_content, submit_version, versions_of_cycle
from records.errors import CycleMoved, DocumentTooLarge, MediaTypeRefused, VersionExists
from records.models import AuditEvent, DocumentBlob
from tests.records.factories import DOCX, MAX_BYTES, OFFICE, new_cycle, submit


def put(session: Session, cycle_id: str, content: bytes, media_type: str = DOCX) -> str:
    return submit_version(
        session,
        cycle_id=cycle_id,
        content=content,
        filename="du-thao.docx",
        media_type=media_type,
        submitted_by=OFFICE,
        max_bytes=MAX_BYTES,
    ).sha256


def test_content_is_stored_by_sha256(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        sha256 = submit(session, cycle.id, b"noi dung")
    assert sha256 == hashlib.sha256(b"noi dung").hexdigest()
    with sessions.begin() as session:
        assert document_content(session, sha256=sha256) == b"noi dung"
        [version] = versions_of_cycle(session, cycle_id=cycle.id)
        assert (version.round, version.size, version.media_type) == (1, 8, DOCX)


def test_same_content_in_two_cycles_is_stored_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first, second = new_cycle(session, line_code="1.1"), new_cycle(session, line_code="2.2.đ")
        assert submit(session, first.id, b"chung") == submit(session, second.id, b"chung")
        assert session.scalar(select(func.count()).select_from(DocumentBlob)) == 1


def test_size_limit_is_enforced(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
    with pytest.raises(DocumentTooLarge) as caught, sessions.begin() as session:
        put(session, cycle.id, b"x" * (MAX_BYTES + 1))
    assert caught.value.message == f"Tệp {MAX_BYTES + 1} byte vượt giới hạn {MAX_BYTES} byte"
    with sessions.begin() as session:
        put(session, cycle.id, b"x" * MAX_BYTES)


def test_settings_carry_the_limit() -> None:
    assert get_settings({}).max_document_bytes == 20 * 1024 * 1024
    assert get_settings({"DUYET_MAX_DOCUMENT_BYTES": "1000"}).max_document_bytes == 1000


def test_media_type_is_checked(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
    with pytest.raises(MediaTypeRefused), sessions.begin() as session:
        put(session, cycle.id, b"MZ", media_type="application/x-msdownload")


def test_one_version_per_round_and_resubmitting_is_a_no_op(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        first = put(session, cycle.id, b"v1")
        assert put(session, cycle.id, b"v1") == first
        submitted = select(func.count()).where(AuditEvent.action == "version.submitted")
        assert session.scalar(submitted) == 1
    with pytest.raises(VersionExists), sessions.begin() as session:
        put(session, cycle.id, b"v1 sua")


def test_versions_are_submitted_in_draft_only(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        put(session, cycle.id, b"v1")
        advance_stage(session, cycle_id=cycle.id, target=Stage.REVIEW, actor=OFFICE)
    with pytest.raises(CycleMoved), sessions.begin() as session:
        put(session, cycle.id, b"v2")
    with sessions.begin() as session:
        advance_stage(session, cycle_id=cycle.id, target=Stage.DRAFT, actor=OFFICE, round_change=1)
        put(session, cycle.id, b"v2")
        assert [v.round for v in versions_of_cycle(session, cycle_id=cycle.id)] == [1, 2]
