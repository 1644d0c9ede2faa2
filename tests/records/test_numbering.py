from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from records import audit, migrate
from records.documents import store_blob
from records.engine import make_engine, session_factory
from records.errors import AlreadyPublished, NumberNotIssued, PublicationUnknown
from records.models import AuditEvent, PublishedDocument
from records.numbering import current_number, next_number, symbol_of, type_key_for
from records.publications import (
    list_published,
    publication_of_cycle,
    published_by_sha256,
    published_pdf,
    record_publication,
)
from tests.records.factories import OFFICE, PLAN_KEY, in_threads, new_cycle, submit

ISSUER = "SVHTTDL"
NOW = datetime(2024, 3, 5, 2, 30, tzinfo=UTC)


def take(session: Session, *, issuer: str = ISSUER, year: int = 2024, type_key: str = "KH") -> int:
    return next_number(session, issuer_code=issuer, year=year, type_key=type_key, now=NOW)


def publish(
    session: Session,
    *,
    pdf: bytes,
    cycle_id: str | None = None,
    line_code: str | None = None,
    number: int | None = None,
    type_code: str | None = "BC",
    source_sha256: str | None = None,
    issued_at: datetime = NOW,
) -> PublishedDocument:
    """Number and record a document in the caller's transaction, as the publication flow does."""
    if number is None:
        number = take(session, year=issued_at.year, type_key=type_key_for(type_code))
    return record_publication(
        session,
        cycle_id=cycle_id,
        plan_key=PLAN_KEY,
        line_code=line_code,
        issuer_code=ISSUER,
        type_name="Báo cáo" if type_code == "BC" else "Kế hoạch",
        type_code=type_code,
        unit_code=None,
        title="Kết quả cải cách hành chính quý I năm 2024",
        issued_at=issued_at,
        issued_on=issued_at.date(),
        signer_name="Nguyễn Văn An",
        pdf=pdf,
        html=f"<p>Số: {number:02d}/{type_code}-{ISSUER}</p>",
        source_sha256=source_sha256,
        filename=f"{number:02d}-{type_code}.pdf",
        number=number,
        actor=OFFICE,
    )


def test_first_number_of_a_year_is_one_and_the_next_follows(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        assert current_number(session, issuer_code=ISSUER, year=2024, type_key="KH") == 0
        assert [take(session), take(session)] == [1, 2]
    with sessions.begin() as session:
        assert take(session) == 3
        assert current_number(session, issuer_code=ISSUER, year=2024, type_key="KH") == 3


def test_each_issuer_year_and_type_has_its_own_register(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert [take(session), take(session)] == [1, 2]
        assert take(session, type_key="BC") == 1
        assert take(session, type_key="CV") == 1
        assert take(session, issuer="UBND") == 1
        assert take(session, year=2025) == 1  # a new year starts again at 01
        assert take(session) == 3


def test_a_rolled_back_number_is_given_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert take(session) == 1
    with pytest.raises(RuntimeError), sessions.begin() as session:
        assert take(session) == 2
        raise RuntimeError("signing failed")
    with sessions.begin() as session:
        assert take(session) == 2


def test_type_keys_and_symbols() -> None:
    assert [type_key_for("KH"), type_key_for("QĐ"), type_key_for(None)] == ["KH", "QĐ", "CV"]
    assert symbol_of(issuer_code=ISSUER, type_code="KH", unit_code=None) == "KH-SVHTTDL"
    assert symbol_of(issuer_code=ISSUER, type_code=None, unit_code="VP") == "SVHTTDL-VP"
    assert symbol_of(issuer_code=ISSUER, type_code=None, unit_code=None) == "SVHTTDL"


def test_cycle_publication_round_trip(sessions: sessionmaker[Session]) -> None:
    pdf = b"%PDF-1.7 ke hoach da ky"
    with sessions.begin() as session:
        cycle = new_cycle(session)
        source = submit(session, cycle.id)
        document = publish(
            session,
            pdf=pdf,
            cycle_id=cycle.id,
            line_code=cycle.line_code,
            type_code="KH",
            source_sha256=source,
        )
    with sessions.begin() as session:
        found, content = published_pdf(session, id=document.id)
        assert content == pdf
        assert (found.number, found.symbol, found.type_key, found.year) == (
            1,
            "KH-SVHTTDL",
            "KH",
            2024,
        )
        assert found.sha256 == hashlib.sha256(pdf).hexdigest()
        assert (found.source_sha256, found.issued_on) == (source, date(2024, 3, 5))
        assert published_by_sha256(session, sha256=found.sha256) == found
        assert publication_of_cycle(session, cycle_id=cycle.id) == found
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert event is not None
        assert (event.action, event.subject) == ("document.issued", f"cycle:{cycle.id}")
        payload = json.loads(event.payload)
        assert payload["line_code"] == cycle.line_code
        assert (payload["number"], payload["symbol"], payload["sha256"]) == (
            1,
            "KH-SVHTTDL",
            found.sha256,
        )
        assert audit.verify(session).intact


def test_a_cycle_issues_one_document(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        cycle = new_cycle(session)
        publish(session, pdf=b"%PDF first", cycle_id=cycle.id, type_code="KH")
    with pytest.raises(AlreadyPublished) as caught, sessions.begin() as session:
        publish(session, pdf=b"%PDF second", cycle_id=cycle.id, type_code="KH")
    assert caught.value.message == "Chu trình đã ban hành văn bản số 01/KH-SVHTTDL"
    with sessions.begin() as session:
        assert current_number(session, issuer_code=ISSUER, year=2024, type_key="KH") == 1


def test_periodic_reports_are_published_without_a_cycle(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = publish(session, pdf=b"%PDF quy I")
        second = publish(session, pdf=b"%PDF quy II", issued_at=NOW.replace(month=6))
    with sessions.begin() as session:
        assert [d.number for d in list_published(session, plan_key=PLAN_KEY)] == [2, 1]
        assert [d.id for d in list_published(session, limit=1, offset=1)] == [first.id]
        assert list_published(session, plan_key="khac") == []
        subjects = session.scalars(
            select(AuditEvent.subject).where(AuditEvent.action == "document.issued")
        ).all()
        assert subjects == [f"publication:{first.id}", f"publication:{second.id}"]
        assert audit.verify(session).intact


def test_only_numbers_the_register_gave_are_recorded(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(NumberNotIssued), sessions.begin() as session:
        publish(session, pdf=b"%PDF", number=1)  # never taken: recording it would leave a gap
    with sessions.begin() as session:
        publish(session, pdf=b"%PDF", number=take(session, type_key="BC"))
    with pytest.raises(NumberNotIssued), sessions.begin() as session:
        publish(session, pdf=b"%PDF 3", number=3)


def test_unknown_publication(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(PublicationUnknown), sessions.begin() as session:
        published_pdf(session, id="khong-co")


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("UPDATE published_documents SET title = 'x'", "published_documents is immutable"),
        ("DELETE FROM published_documents", "published_documents is immutable"),
        ("UPDATE document_blobs SET media_type = 'x'", "document_blobs is immutable"),
        ("DELETE FROM document_blobs", "part of a published document"),
    ],
)
def test_database_refuses_to_change_what_was_published(
    sessions: sessionmaker[Session], statement: str, refusal: str
) -> None:
    with sessions.begin() as session:
        document = publish(session, pdf=b"%PDF da ban hanh")
    with pytest.raises(DBAPIError, match=refusal), sessions.begin() as session:
        session.execute(text(statement))
    with sessions.begin() as session:
        assert published_pdf(session, id=document.id)[1] == b"%PDF da ban hanh"


def test_blobs_nothing_published_points_at_can_still_go(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        publish(session, pdf=b"%PDF da ban hanh")
        loose = store_blob(session, content=b"nhap", media_type="text/plain", now=NOW)
    with sessions.begin() as session:
        session.execute(text("DELETE FROM document_blobs WHERE sha256 = :s"), {"s": loose})


@pytest.mark.slow
def test_concurrent_publications_take_consecutive_numbers(db_url: str) -> None:
    """Publications released together: numbers 1..n, none twice, none skipped; chain intact."""
    count = 50 if db_url.startswith("postgresql") else 10
    engine = make_engine(db_url, pool_size=count, max_overflow=0)
    sessions = session_factory(engine)

    def publish_one(index: int) -> int:
        with sessions.begin() as session:
            return publish(session, pdf=f"%PDF-1.7 bao cao {index}".encode()).number

    try:
        results = in_threads(count, publish_one)
        numbers = sorted(r for r in results if isinstance(r, int))
        assert numbers == list(range(1, count + 1)), results
        with sessions.begin() as session:
            rows = session.scalars(select(PublishedDocument.number)).all()
            assert sorted(rows) == list(range(1, count + 1))
            issued = select(func.count()).where(AuditEvent.action == "document.issued")
            assert session.scalar(issued) == count
            assert current_number(session, issuer_code=ISSUER, year=2024, type_key="BC") == count
            report = audit.verify(session)
            assert (report.intact, report.entries) == (True, count)
    finally:
        engine.dispose()


def test_migration_goes_down_and_up_with_documents_published(
    db_url: str, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        publish(session, pdf=b"%PDF da ban hanh")
    assert migrate.downgrade(db_url, "0003") == "0003"
    assert migrate.upgrade(db_url) == migrate.head()
    with sessions.begin() as session:
        assert take(session, type_key="BC") == 1  # the register went with the downgrade
        assert audit.verify(session).intact
