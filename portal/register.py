"""Public pages (no account): the register of published documents (a page, each document's page
with its hash and signature, the signed PDF, and an Atom feed for other bodies' systems to follow)
and the drafts open for public comment (lấy ý kiến Nhân dân) with the lead unit's address.

Links in the feed are built from the configured public base URL, never from the request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any
from xml.sax.saxutils import escape

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from definitions.stage_rules import Stage, kind_of
from definitions.units import UnitDirectory
from duyet.messages import PORTAL
from portal.deps import Portal, PortalDep
from portal.pages import HTML, attachment, message, page
from records.cycle_reads import open_cycles
from records.documents import document_content, version_of_round
from records.engine import session_scope
from records.errors import PublicationUnknown
from records.models import DocumentVersion, PublishedDocument
from records.publications import list_published, published_pdf

router = APIRouter(tags=["register"])
PAGE_SIZE = 50
FEED_SIZE = 100
ATOM = "application/atom+xml; charset=utf-8"


def _row(doc: PublishedDocument) -> dict[str, Any]:
    number = f"{doc.number:02d}"
    return {
        "id": doc.id,
        "number": f"{number}/{doc.symbol}",
        "type_name": doc.type_name,
        "title": doc.title,
        "issued_on": doc.issued_on,
        "issued_at": doc.issued_at,
        "signer": doc.signer_name,
        "sha256": doc.sha256,
        "filename": doc.filename,
        "line_code": doc.line_code,
        "plan_key": doc.plan_key,
    }


@router.get("/van-ban", response_class=HTMLResponse, responses={200: HTML})
async def register_page(
    request: Request,
    portal: PortalDep,
    page_no: Annotated[int, Query(alias="trang", ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """Sổ văn bản đã ban hành: newest first, with number, date, title, hash and download."""

    def read() -> list[dict[str, Any]]:
        with session_scope(portal.settings.database_url) as session:
            found = list_published(session, limit=PAGE_SIZE + 1, offset=(page_no - 1) * PAGE_SIZE)
            return [_row(doc) for doc in found]

    rows = await run_in_threadpool(read)
    context = {
        "rows": rows[:PAGE_SIZE],
        "page_no": page_no,
        "more": len(rows) > PAGE_SIZE,
        "feed": f"{portal.settings.require_public_base_url()}/van-ban/feed.atom",
    }
    return page(request, "register.html.j2", context)


@router.get("/van-ban/feed.atom", responses={200: {"content": {ATOM: {}}}})
async def register_feed(portal: PortalDep) -> Response:
    """Atom feed of the latest published documents."""
    base = portal.settings.require_public_base_url()

    def read() -> list[PublishedDocument]:
        with session_scope(portal.settings.database_url) as session:
            return list_published(session, limit=FEED_SIZE)

    docs = await run_in_threadpool(read)
    return Response(
        _atom(base, portal.definitions.directory.organisation.name, docs), media_type=ATOM
    )


@router.get("/van-ban/{doc_id}", response_class=HTMLResponse, responses={200: HTML, 404: HTML})
async def document_page(request: Request, doc_id: str, portal: PortalDep) -> HTMLResponse:
    """One published document: its particulars, its hash, how to check the signature."""
    found = await run_in_threadpool(_find, portal.settings.database_url, doc_id)
    if found is None:
        return message(request, 404, PORTAL["register-unknown"])
    base = portal.settings.require_public_base_url()
    return page(request, "register_doc.html.j2", {"doc": found[0], "base": base})


@router.get(
    "/van-ban/{doc_id}/tai-ve",
    responses={200: {"content": {"application/pdf": {}}}, 404: HTML},
)
async def document_file(request: Request, doc_id: str, portal: PortalDep) -> Response:
    """The signed PDF, as issued, byte for byte (a download, never shown in place)."""
    found = await run_in_threadpool(_find, portal.settings.database_url, doc_id)
    if found is None:
        return message(request, 404, PORTAL["register-unknown"])
    row, content = found
    return attachment(content, row["filename"], "application/pdf")


@dataclass(frozen=True)
class OpenDraft:
    cycle_id: str
    code: str
    title: str
    stage: str
    round: int
    until: dt.datetime
    lead: str
    email: str
    version: DocumentVersion


def _open_drafts(portal: Portal) -> list[OpenDraft]:
    """Cycles at a review stage with a public-comment period still running, with their draft."""
    defs, now = portal.definitions, dt.datetime.now(dt.UTC)
    found: list[OpenDraft] = []
    with session_scope(portal.settings.database_url) as session:
        for cycle in open_cycles(session):
            if kind_of(cycle.stage) != Stage.REVIEW or cycle.stage_started_at is None:
                continue
            try:
                line = defs.line(cycle.plan_key, cycle.line_code)
                stage = defs.stage(line, cycle.stage)
            except (KeyError, OSError):
                continue
            days = getattr(stage, "public_comment_days", 0)
            until = cycle.stage_started_at + dt.timedelta(days=days)
            version = version_of_round(session, cycle_id=cycle.id, round=cycle.round)
            if not days or until <= now or version is None:
                continue
            directory = defs.units(cycle.plan_key)
            lead = next((directory.unit(u) for u in line.lead if _is_unit(directory, u)), None)
            found.append(
                OpenDraft(
                    cycle_id=cycle.id,
                    code=line.code,
                    title=line.title,
                    stage=cycle.stage,
                    round=cycle.round,
                    until=until,
                    lead=lead.name if lead else "",
                    email=lead.email if lead else "",
                    version=version,
                )
            )
    return found


def _is_unit(directory: UnitDirectory, ref: str) -> bool:
    return any(unit.id == ref for unit in directory.units)


@router.get("/gop-y", response_class=HTMLResponse, responses={200: HTML})
async def public_comment_page(request: Request, portal: PortalDep) -> HTMLResponse:
    """Dự thảo lấy ý kiến Nhân dân: drafts whose public-comment period is running."""
    drafts = await run_in_threadpool(_open_drafts, portal)
    return page(request, "public_comment.html.j2", {"drafts": drafts})


@router.get(
    "/gop-y/{cycle_id}/du-thao",
    responses={200: {"content": {"application/octet-stream": {}}}, 404: HTML},
)
async def public_draft(request: Request, cycle_id: str, portal: PortalDep) -> Response:
    """The draft under public comment, as submitted (a download, never shown in place)."""
    drafts = await run_in_threadpool(_open_drafts, portal)
    draft = next((d for d in drafts if d.cycle_id == cycle_id), None)
    if draft is None:
        return message(request, 404, PORTAL["public-comment-closed"])

    def read() -> bytes | None:
        with session_scope(portal.settings.database_url) as session:
            return document_content(session, sha256=draft.version.sha256)

    content = await run_in_threadpool(read)
    if content is None:
        return message(request, 404, PORTAL["public-comment-closed"])
    return attachment(content, draft.version.filename, draft.version.media_type)


def _find(url: str, doc_id: str) -> tuple[dict[str, Any], bytes] | None:
    if len(doc_id) > 64:
        return None
    with session_scope(url) as session:
        try:
            doc, content = published_pdf(session, id=doc_id)
        except PublicationUnknown:
            return None
        return _row(doc), content


def _atom(base: str, author: str, docs: list[PublishedDocument]) -> bytes:
    updated = max((d.issued_at for d in docs), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    entries = []
    for doc in docs:
        row = _row(doc)
        url = f"{base}/van-ban/{doc.id}"
        title = f"{row['type_name']} số {row['number']}: {doc.title}"
        summary = (
            f"Ngày ban hành {doc.issued_on:%d/%m/%Y}; người ký {doc.signer_name}; "
            f"SHA-256 {doc.sha256}"
        )
        entries.append(
            "<entry>"
            f"<id>urn:uuid:{escape(doc.id)}</id>"
            f"<title>{escape(title)}</title>"
            f"<updated>{_iso(doc.issued_at)}</updated>"
            f'<link rel="alternate" type="text/html" href="{escape(url)}"/>'
            f'<link rel="enclosure" type="application/pdf" href="{escape(url)}/tai-ve"/>'
            f"<summary>{escape(summary)}</summary>"
            "</entry>"
        )
    feed = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">'
        f"<id>{escape(base)}/van-ban</id>"
        f"<title>{escape(PORTAL['register-title'])}</title>"
        f"<updated>{_iso(updated)}</updated>"
        f"<author><name>{escape(author)}</name></author>"
        f'<link rel="self" href="{escape(base)}/van-ban/feed.atom"/>'
        f'<link rel="alternate" type="text/html" href="{escape(base)}/van-ban"/>'
        + "".join(entries)
        + "</feed>"
    )
    return feed.encode()


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
