"""Document versions of a cycle, their content stored once by sha256."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from definitions.stage_rules import Stage
from records import audit
from records.cycle_reads import get_cycle
from records.cycles import record_cycle_event, require_at
from records.errors import DocumentTooLarge, MediaTypeRefused, VersionExists, VersionUnchanged
from records.models import DocumentBlob, DocumentVersion

DOCUMENT_MEDIA_TYPES = frozenset(
    {
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/msword",
        "application/vnd.oasis.opendocument.text",
        "text/plain",
        "text/markdown",
    }
)


def submit_version(
    session: Session,
    *,
    cycle_id: str,
    content: bytes,
    filename: str,
    media_type: str,
    submitted_by: str,
    max_bytes: int,
    media_types: Collection[str] = DOCUMENT_MEDIA_TYPES,
    now: datetime | None = None,
) -> DocumentVersion:
    """Put up the document of the cycle's current round (in draft); resubmitting it is a no-op."""
    check_upload(content, media_type, max_bytes=max_bytes, media_types=media_types)
    audit.lock(session)
    cycle = get_cycle(session, cycle_id=cycle_id)
    require_at(cycle, stage=Stage.DRAFT, round=cycle.round)
    sha256 = hashlib.sha256(content).hexdigest()
    existing = version_of_round(session, cycle_id=cycle_id, round=cycle.round)
    if existing is not None:
        if existing.sha256 == sha256:
            return existing
        raise VersionExists(round=cycle.round)
    previous = version_of_round(session, cycle_id=cycle_id, round=cycle.round - 1)
    if previous is not None and previous.sha256 == sha256:
        raise VersionUnchanged(round=cycle.round - 1)
    moment = now or audit.utcnow()
    store_blob(session, content=content, media_type=media_type, now=moment)
    version = DocumentVersion(
        cycle_id=cycle_id,
        round=cycle.round,
        sha256=sha256,
        filename=filename,
        media_type=media_type,
        size=len(content),
        submitted_by=submitted_by,
        submitted_at=moment,
    )
    session.add(version)
    session.flush()
    record_cycle_event(
        session,
        cycle=cycle,
        actor=submitted_by,
        action="version.submitted",
        at=moment,
        round=version.round,
        sha256=sha256,
        filename=filename,
        media_type=media_type,
        size=version.size,
    )
    return version


def check_upload(
    content: bytes,
    media_type: str,
    *,
    max_bytes: int | None,
    media_types: Collection[str] = DOCUMENT_MEDIA_TYPES,
) -> None:
    """Refuse a file over `max_bytes` or of a type the records do not keep."""
    if max_bytes is not None and len(content) > max_bytes:
        raise DocumentTooLarge(size=len(content), limit=max_bytes)
    if media_type not in media_types:
        raise MediaTypeRefused(media_type=media_type)


def store_blob(session: Session, *, content: bytes, media_type: str, now: datetime) -> str:
    """Keep `content` once under its sha256 (an existing copy stays as it is); return the sha256."""
    sha256 = hashlib.sha256(content).hexdigest()
    if session.get(DocumentBlob, sha256) is None:
        session.add(
            DocumentBlob(
                sha256=sha256,
                content=content,
                size=len(content),
                media_type=media_type,
                stored_at=now,
            )
        )
    return sha256


def version_of_round(session: Session, *, cycle_id: str, round: int) -> DocumentVersion | None:
    """The document version a cycle put up for `round`, if any."""
    return session.scalars(
        select(DocumentVersion).where(
            DocumentVersion.cycle_id == cycle_id, DocumentVersion.round == round
        )
    ).first()


_VERSIONS = (  # built once (see records.cycle_reads._CYCLE)
    select(DocumentVersion)
    .where(DocumentVersion.cycle_id == bindparam("cycle_id"))
    .order_by(DocumentVersion.round)
)


def versions_of_cycle(session: Session, *, cycle_id: str) -> list[DocumentVersion]:
    """Every document version of a cycle, by round."""
    return list(session.scalars(_VERSIONS, {"cycle_id": cycle_id}))


def document_content(session: Session, *, sha256: str) -> bytes | None:
    """The stored bytes with this sha256, if any."""
    blob = session.get(DocumentBlob, sha256)
    return blob.content if blob else None
