"""Published documents: the signed PDF of each issued document, with its number, kept for good.

Issuing is one transaction held by the caller, in this order:

    with session_scope(url) as session:
        number = next_number(session, issuer_code=..., year=issued_on.year,
                             type_key=type_key_for(type_code), now=issued_at)
        rendered = render(spec with number and issued_on)  # the number is printed on the page
        pdf = sign(rendered.pdf)
        record_publication(session, ..., number=number, pdf=pdf, html=rendered.html)

Taking the number first holds the register (and the audit chain) until commit, so concurrent
publications queue and get consecutive numbers; if rendering, signing or recording fails, the
rollback gives the number back and no gap is left in the register.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from records import audit
from records.cycle_reads import get_cycle
from records.cycles import record_cycle_event
from records.documents import store_blob
from records.errors import AlreadyPublished, NumberNotIssued, PublicationUnknown
from records.models import DocumentBlob, PublishedDocument
from records.numbering import current_number, symbol_of, type_key_for

PDF = "application/pdf"
HTML = "text/html; charset=utf-8"


def record_publication(
    session: Session,
    *,
    cycle_id: str | None,
    plan_key: str,
    line_code: str | None,
    issuer_code: str,
    type_name: str,
    type_code: str | None,
    unit_code: str | None,
    title: str,
    issued_at: datetime,
    issued_on: date,
    signer_name: str,
    pdf: bytes,
    html: str,
    source_sha256: str | None,
    filename: str,
    number: int,
    actor: str,
) -> PublishedDocument:
    """Keep the signed PDF and its HTML under the number `next_number` gave, and log the issue."""
    audit.lock(session)
    cycle = get_cycle(session, cycle_id=cycle_id) if cycle_id is not None else None
    if cycle_id is not None and (existing := publication_of_cycle(session, cycle_id=cycle_id)):
        raise AlreadyPublished(
            cycle_id=cycle_id, number=f"{existing.number:02d}", symbol=existing.symbol
        )
    type_key, year = type_key_for(type_code), issued_on.year
    issued = current_number(session, issuer_code=issuer_code, year=year, type_key=type_key)
    if not 1 <= number <= issued:
        raise NumberNotIssued(number=number, issuer_code=issuer_code, year=year, type_key=type_key)
    document = PublishedDocument(
        id=str(uuid.uuid4()),
        cycle_id=cycle_id,
        plan_key=plan_key,
        line_code=line_code,
        issuer_code=issuer_code,
        year=year,
        type_key=type_key,
        number=number,
        symbol=symbol_of(issuer_code=issuer_code, type_code=type_code, unit_code=unit_code),
        type_name=type_name,
        title=title,
        issued_on=issued_on,
        issued_at=issued_at,
        signer_name=signer_name,
        sha256=store_blob(session, content=pdf, media_type=PDF, now=issued_at),
        html_sha256=store_blob(session, content=html.encode(), media_type=HTML, now=issued_at),
        source_sha256=source_sha256,
        filename=filename,
    )
    session.add(document)
    session.flush()
    details = {
        "publication_id": document.id,
        "number": number,
        "symbol": document.symbol,
        "year": year,
        "type_key": type_key,
        "issued_on": issued_on,
        "sha256": document.sha256,
        "html_sha256": document.html_sha256,
        "source_sha256": source_sha256,
        "filename": filename,
    }
    if cycle is not None:
        record_cycle_event(
            session, cycle=cycle, actor=actor, action="document.issued", at=issued_at, **details
        )
    else:
        audit.append(
            session,
            actor=actor,
            action="document.issued",
            subject=f"publication:{document.id}",
            payload={"plan_key": plan_key, "line_code": line_code} | details,
            at=issued_at,
        )
    return document


def published_by_sha256(session: Session, *, sha256: str) -> PublishedDocument | None:
    """The published document whose signed PDF has this sha256, if any."""
    query = select(PublishedDocument).where(PublishedDocument.sha256 == sha256)
    return session.scalars(query).first()


def publication_of_cycle(session: Session, *, cycle_id: str) -> PublishedDocument | None:
    """The document a cycle issued, if it did."""
    query = select(PublishedDocument).where(PublishedDocument.cycle_id == cycle_id)
    return session.scalars(query).first()


def list_published(
    session: Session, *, plan_key: str | None = None, limit: int = 100, offset: int = 0
) -> list[PublishedDocument]:
    """Published documents (of one plan, or all), newest first."""
    query = select(PublishedDocument)
    if plan_key is not None:
        query = query.where(PublishedDocument.plan_key == plan_key)
    query = query.order_by(
        PublishedDocument.issued_at.desc(),
        PublishedDocument.year.desc(),
        PublishedDocument.number.desc(),
        PublishedDocument.id,
    )
    return list(session.scalars(query.limit(limit).offset(offset)))


def published_pdf(session: Session, *, id: str) -> tuple[PublishedDocument, bytes]:
    """A published document and the bytes of its signed PDF; `PublicationUnknown` if absent."""
    document = session.get(PublishedDocument, id)
    if document is None:
        raise PublicationUnknown(id=id)
    return document, session.get_one(DocumentBlob, document.sha256).content
