"""The Office's board, `/office`: every line of the plan and its cycle; start, resend, cancel."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, RedirectResponse

from definitions.plan import Plan
from duyet import progress
from duyet.messages import CLI_CYCLES, PORTAL, STAGES
from flows.control import Draft, cancel_cycle_everywhere, start_cycle
from notifications.forwarding import resend_request
from notifications.recipients import unit_name
from portal.answers import Upload
from portal.deps import OfficeForm, OfficeUser, PlanDep, Portal, PortalDep, plan_choices
from portal.pages import HTML, page
from portal.security import session_binding
from publishing import charts
from records.cycle_reads import get_cycle, open_cycles
from records.documents import DOCUMENT_MEDIA_TYPES
from records.engine import session_scope
from records.errors import DocumentTooLarge, MediaTypeRefused

logger = logging.getLogger("duyet.portal")
router = APIRouter(prefix="/office", tags=["office"])
ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "Done; back to the board with a notice"},
    401: {"description": "Not signed in", **HTML},
    403: {"description": "Not an Office account, or CSRF token missing or wrong", **HTML},
    404: {"description": "Unknown plan, line or cycle", **HTML},
    409: {"description": "The cycle moved on or is closed", **HTML},
    503: {"description": "Prefect not reachable", **HTML},
}


def _back(portal: Portal, plan: Plan, text: str) -> RedirectResponse:
    query = urlencode({"plan": plan.id, "n": portal.keys.sign_notice(text)})
    return RedirectResponse(f"/office?{query}", status_code=303)


@router.get("", response_class=HTMLResponse, responses={303: {"description": "Sign in first"}})
def board_page(
    request: Request, portal: PortalDep, user: OfficeUser, chosen: PlanDep, n: str = ""
) -> HTMLResponse:
    """Every line by section: stage, round, deadline, overdue, who has not answered; charts."""
    defs, now = portal.definitions, dt.datetime.now(dt.UTC)
    with session_scope(portal.settings.database_url) as session:
        lines = progress.board_lines(session, defs, chosen, now=now)
    rows = [
        charts.GanttRow(
            x.code, x.title, x.start, x.due, x.progress, x.opened, x.closed, x.milestones
        )
        for x in lines
    ]
    context = {
        "user": user,
        "csrf": portal.keys.csrf_token(session_binding(user.session)),
        "plan": chosen,
        "plans": plan_choices(portal),
        "notice": portal.keys.read_notice(n),
        "sections": progress.by_section(chosen, lines),
        "gantt": charts.gantt(rows, year=chosen.year, today=defs.today(now), label=chosen.title),
        "by_section": charts.progress_bars(
            progress.section_tallies(chosen, lines), label="sections"
        ),
        "by_unit": charts.progress_bars(
            progress.unit_tallies(defs.units(chosen.id), lines), label="units"
        ),
        "stages": STAGES,
        "now": now,
    }
    return page(request, "board.html.j2", context)


@router.post("/start", response_class=RedirectResponse, status_code=303, responses=ACTION_RESPONSES)
async def start(
    portal: PortalDep,
    user: OfficeForm,
    chosen: PlanDep,
    scope: Annotated[Literal["line", "section", "due"], Form()] = "line",
    code: Annotated[str, Form(max_length=32)] = "",
    section: Annotated[str, Form(max_length=16)] = "",
    due_before: Annotated[dt.date | None, Form()] = None,
    draft: Annotated[UploadFile | None, File()] = None,
) -> RedirectResponse:
    """Open cycles (one line, a section, all due before a date), with an optional draft."""
    lines = progress.select_lines(
        chosen, scope=scope, code=code, section=section, due_before=due_before
    )
    attached = await _draft(portal, draft)
    with session_scope(portal.settings.database_url) as session:
        busy = {c.line_code for c in open_cycles(session, plan_key=chosen.id)}
    todo = [line.code for line in lines if line.code not in busy]
    started, failed = [], []
    with portal.orchestrator.scope():
        for code_ in todo:
            try:
                await start_cycle(
                    portal.settings, plan_id=chosen.id, code=code_, actor=user.actor, draft=attached
                )
                started.append(code_)
            except Exception:  # the cycle is open in the records; the reconciler starts it
                logger.warning("starting the run of %s failed", code_, exc_info=True)
                failed.append(code_)
    notes = [PORTAL["started"].format(count=len(started), codes=", ".join(started))]
    if not todo:
        notes = [PORTAL["started-none"]]
    if skipped := [line.code for line in lines if line.code in busy]:
        notes.append(PORTAL["skipped"].format(codes=", ".join(skipped)))
    if failed:
        notes.append(PORTAL["start-failed"].format(codes=", ".join(failed)))
    return _back(portal, chosen, " ".join(notes))


async def _draft(portal: Portal, draft: UploadFile | None) -> Draft | None:
    if draft is None or not draft.filename:
        return None
    limit = portal.settings.max_document_bytes
    content = await draft.read(limit + 1)
    if not content:
        return None
    upload = Upload.of(content, draft.filename, draft.content_type)
    if len(content) > limit:
        raise DocumentTooLarge(size=len(content), limit=limit)
    if upload.media_type not in DOCUMENT_MEDIA_TYPES:
        raise MediaTypeRefused(media_type=upload.media_type)
    return Draft(upload.content, upload.filename, upload.media_type)


@router.post(
    "/resend", response_class=RedirectResponse, status_code=303, responses=ACTION_RESPONSES
)
async def resend(
    portal: PortalDep,
    user: OfficeForm,
    chosen: PlanDep,
    cycle_id: Annotated[str, Form(max_length=36)] = "",
    unit: Annotated[str, Form(max_length=64)] = "",
) -> RedirectResponse:
    """A new link to a unit that has not answered; its old link dies."""
    directory = portal.definitions.units(chosen.id)
    if unit not in {u.id for u in directory.units}:
        raise HTTPException(404)

    def queue() -> str:
        with session_scope(portal.settings.database_url) as session:
            cycle = get_cycle(session, cycle_id=cycle_id)
            if cycle.plan_key != chosen.id:  # a unit id of one plan's directory, another's cycle
                raise HTTPException(404)
            resend_request(
                session,
                settings=portal.settings,
                directory=directory,
                cycle_id=cycle.id,
                unit=unit,
                actor=user.actor,
            )
            return cycle.line_code

    code = await run_in_threadpool(queue)
    name = unit_name(directory, unit)
    return _back(portal, chosen, PORTAL["resent"].format(unit=name, code=code))


@router.post(
    "/cancel", response_class=RedirectResponse, status_code=303, responses=ACTION_RESPONSES
)
async def cancel(
    portal: PortalDep,
    user: OfficeForm,
    chosen: PlanDep,
    cycle_id: Annotated[str, Form(max_length=36)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> RedirectResponse:
    """Withdraw a cycle: links die, the units are told, the run is cancelled."""

    def code_of() -> str:
        with session_scope(portal.settings.database_url) as session:
            return get_cycle(session, cycle_id=cycle_id).line_code

    code = await run_in_threadpool(code_of)
    with portal.orchestrator.scope():
        await cancel_cycle_everywhere(
            portal.settings,
            cycle_id,
            actor=user.actor,
            reason=reason.strip() or CLI_CYCLES["no-reason"],
        )
    return _back(portal, chosen, PORTAL["cancelled"].format(code=code))
