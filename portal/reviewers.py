"""Reviewers' pages, reached from the links in their mail: `/r/{token}`. No account: the link is
the credential. GET and HEAD never change anything (mail scanners fetch every link); a GET only
writes `link.opened` to the audit chain. Only a POST with the page's CSRF token decides."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, File, Form, Request, UploadFile
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from definitions.stage_rules import Stage
from flows.control import Nudge, resume_if_decided
from notifications.links import LinkOutcome, check_link
from portal.answers import Answer, Recorded, Upload, forward, record_answer
from portal.deps import Client, ClientDep, Portal, PortalDep
from portal.linkview import LinkPage, log_opening, not_found, open_link
from portal.pages import HTML, attachment, page
from portal.shown import skeleton_of
from publishing.render import render_document
from records.cycle_reads import get_cycle
from records.documents import document_content, versions_of_cycle
from records.engine import read_scope
from records.grouped import group_commit

logger = logging.getLogger("duyet.portal")
router = APIRouter(tags=["reviewers"])
# Seconds between asks while the run is still on its way to suspension (about 30 s in all).
RESUME_RETRY_DELAYS = (0.25, 0.5, 1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 8.0, 8.0)

LINK_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown, truncated, tampered or forged link", **HTML},
    409: {"description": "Link used (shows the decision) or stage closed", **HTML},
    410: {"description": "Link expired or revoked", **HTML},
}
FORM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **LINK_RESPONSES,
    400: {"description": "Decision not allowed at this stage, or no document", **HTML},
    403: {"description": "CSRF token missing or wrong", **HTML},
    413: {"description": "Document too large", **HTML},
    415: {"description": "Document type refused", **HTML},
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def show(request: Request, shown: LinkPage) -> HTMLResponse:
    return page(request, shown.template, shown.context, status=shown.status)


def _read(portal: Portal, token: str, now: dt.datetime) -> LinkPage:
    with read_scope(portal.settings.database_url) as session:
        return open_link(
            session,
            settings=portal.settings,
            defs=portal.definitions.pinned(),
            keys=portal.keys,
            raw_token=token,
            now=now,
        )


async def _open(portal: Portal, token: str, client: Client | None) -> LinkPage:
    # The page is read beside SQLite's writer, on one of a few threads (more would only take
    # turns at the GIL, each SQL call waiting its turn again); the opening (a GET's) is written
    # before the answer, committed with the other pages' openings of the moment: never shown
    # unlogged. No thread waits for that commit.
    now = _now()
    loop = asyncio.get_running_loop()
    shown = await loop.run_in_executor(portal.readers, _read, portal, token, now)
    if client is not None and shown.genuine:
        await group_commit(portal.settings.database_url).awrite(
            lambda session: log_opening(session, shown=shown, client=client, now=now)
        )
    return shown


@router.get("/r/{token}", response_class=HTMLResponse, responses=LINK_RESPONSES)
async def link_page(
    token: str, request: Request, portal: PortalDep, client: ClientDep
) -> HTMLResponse:
    """The document, what changed, others' comments and the decision form."""
    return show(request, await _open(portal, token, client))


@router.head("/r/{token}", response_class=HTMLResponse, responses=LINK_RESPONSES)
async def link_head(token: str, request: Request, portal: PortalDep) -> HTMLResponse:
    """As GET, without logging the opening."""
    return show(request, await _open(portal, token, None))


@router.post("/r/{token}", response_class=HTMLResponse, responses=FORM_RESPONSES)
async def answer(
    token: str,
    request: Request,
    portal: PortalDep,
    client: ClientDep,
    after: BackgroundTasks,
    csrf: Annotated[str, Form()] = "",
    decision: Annotated[str, Form(max_length=32)] = "",
    comment: Annotated[str, Form(max_length=10_000)] = "",
    person: Annotated[str, Form(max_length=200)] = "",
    text: Annotated[str, Form()] = "",
    document: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """Record the decision (or the new draft), show the receipt, then resume the flow run."""
    upload = None
    if document is not None and document.filename:
        content = await document.read(portal.settings.max_document_bytes + 1)
        if content:
            upload = Upload.of(content, document.filename, document.content_type)
    form = Answer(csrf, decision, comment, person, text, upload)
    settings, defs, keys = portal.settings, portal.definitions, portal.keys
    result = await run_in_threadpool(
        lambda: record_answer(settings, defs, keys, raw_token=token, answer=form, client=client)
    )
    if isinstance(result, Recorded):
        # Once the receipt is sent: the reviewer never waits on Prefect's API (tens of ms, but
        # seconds of retries when its server is busy); a resume lost here is the reconciler's.
        after.add_task(resume, portal, result.cycle_id)
        return show(request, result.receipt)
    return show(request, result)


@router.post("/r/{token}/delegate", response_class=HTMLResponse, responses=FORM_RESPONSES)
def delegate(
    token: str,
    request: Request,
    portal: PortalDep,
    csrf: Annotated[str, Form()] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    person: Annotated[str, Form(max_length=200)] = "",
) -> HTMLResponse:
    """Forward the request to a colleague of the same unit: a new link goes out, this one dies."""
    shown = forward(
        portal.settings,
        portal.definitions,
        portal.keys,
        raw_token=token,
        csrf=csrf,
        email=email,
        person=person,
    )
    return show(request, shown)


@router.get(
    "/r/{token}/document",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **LINK_RESPONSES},
)
def download(token: str, request: Request, portal: PortalDep) -> Response:
    """The original file of the document the link is about."""
    with read_scope(portal.settings.database_url) as session:
        secret = portal.settings.require_secret()
        check = check_link(session, secret=secret, raw_token=token, now=_now())
        link = check.link
        if check.outcome not in (LinkOutcome.VALID, LinkOutcome.USED) or link is None:
            return show(request, not_found())
        content = document_content(session, sha256=link.document_sha256)
        versions = versions_of_cycle(session, cycle_id=link.cycle_id)
        version = next((v for v in versions if v.sha256 == link.document_sha256), None)
    if content is None or version is None:
        return show(request, not_found())
    return attachment(content, version.filename, version.media_type)


@router.get(
    "/r/{token}/khung-du-thao",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **LINK_RESPONSES},
)
def skeleton_pdf(token: str, request: Request, portal: PortalDep) -> Response:
    """The draft skeleton laid out per Decree 30 (marked DỰ THẢO), for a draft link."""
    with read_scope(portal.settings.database_url) as session:
        secret = portal.settings.require_secret()
        check = check_link(session, secret=secret, raw_token=token, now=_now())
        link = check.link
        if check.outcome != LinkOutcome.VALID or link is None or link.stage != Stage.DRAFT:
            return show(request, not_found())
        spec = skeleton_of(portal.definitions, get_cycle(session, cycle_id=link.cycle_id))
    rendered = render_document(spec)
    return attachment(
        rendered.pdf, f"khung-du-thao-{spec.type_code or 'CV'}.pdf", "application/pdf"
    )


async def resume(portal: Portal, cycle_id: str) -> None:
    """Resume the run after the commit; a failure is left to the reconciler, never to the user.

    A run caught between its last read of the records and the end of its suspension (a reviewer
    answering its mail within a second or two) is asked again, rather than left waiting for the
    reconciler's next pass: Prefect refuses the resume until the run is paused *and* has saved
    the schema of its input, one API call after. Each ask re-reads the records, so it resumes
    nothing undecided.
    """
    if portal.orchestrator.api_url is None:
        logger.warning("no PREFECT_API_URL: cycle %s waits for the reconciler", cycle_id)
        return
    try:
        with portal.orchestrator.scope():
            for delay in RESUME_RETRY_DELAYS:
                nudge = await resume_if_decided(portal.settings, cycle_id)
                if nudge != Nudge.NOT_PAUSED or not await _suspending(portal, cycle_id):
                    return
                await asyncio.sleep(delay)
            await resume_if_decided(portal.settings, cycle_id)
    except Exception:
        logger.warning("resuming cycle %s failed; the reconciler will", cycle_id, exc_info=True)


async def _suspending(portal: Portal, cycle_id: str) -> bool:
    """Whether the cycle's run is running or paused: still suspending, maybe without having seen
    the decision (a scheduled or pending run will read it; a finished one is the reconciler's)."""
    with read_scope(portal.settings.database_url) as session:
        flow_run_id = get_cycle(session, cycle_id=cycle_id).flow_run_id
    if flow_run_id is None:
        return False
    async with get_client() as client:
        run = await client.read_flow_run(UUID(flow_run_id))
    return run.state is not None and run.state.type in (StateType.RUNNING, StateType.PAUSED)
