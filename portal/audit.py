"""Auditors' pages, `/audit`: read-only. Line histories, chain verification, exports."""

from __future__ import annotations

import datetime as dt
import io
import logging
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response

from duyet import progress
from duyet.messages import AUDIT_BREAKS, AUDIT_MESSAGES
from portal import history
from portal.deps import Auditor, PlanDep, Portal, PortalDep, plan_choices
from portal.pages import HTML, attachment, page
from portal.security import session_binding
from records import audit
from records.engine import session_scope
from records.models import Decision, DocumentBlob, DocumentVersion
from records.trail import trail, write_csv, write_json, write_xlsx

logger = logging.getLogger("duyet.portal")
router = APIRouter(prefix="/audit", tags=["auditors"])
READ_RESPONSES: dict[int | str, dict[str, Any]] = {
    303: {"description": "Sign in first"},
    403: {"description": "Not an auditor account", **HTML},
    404: {"description": "Unknown plan, line or document", **HTML},
}
MEDIA = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _chain(portal: Portal) -> dict[str, Any]:
    with session_scope(portal.settings.database_url) as session:
        report = audit.verify(session)
    broken = None
    if report.broken is not None:
        reason = AUDIT_BREAKS[report.broken.reason].format(**report.broken.params)
        broken = AUDIT_MESSAGES["broken"].format(seq=report.broken.seq, reason=reason)
    return {
        "intact": report.intact,
        "entries": report.entries,
        "head": report.head,
        "broken": broken,
    }


@router.get("", response_class=HTMLResponse, responses=READ_RESPONSES)
def index(request: Request, portal: PortalDep, user: Auditor, chosen: PlanDep) -> HTMLResponse:
    """The plan's lines, the chain's verification, exports of the whole trail."""
    now = dt.datetime.now(dt.UTC)
    with session_scope(portal.settings.database_url) as session:
        lines = progress.board_lines(session, portal.definitions, chosen, now=now)
    context = {
        "user": user,
        "csrf": portal.keys.csrf_token(session_binding(user.session)),
        "plan": chosen,
        "plans": plan_choices(portal),
        "sections": progress.by_section(chosen, lines),
        "chain": _chain(portal),
    }
    return page(request, "audit_index.html.j2", context)


@router.get("/lines/{code}", response_class=HTMLResponse, responses=READ_RESPONSES)
async def line(
    request: Request,
    portal: PortalDep,
    user: Auditor,
    chosen: PlanDep,
    code: Annotated[str, PathParam(max_length=32)],
) -> HTMLResponse:
    """One timeline (audit chain + Prefect states), versions with diffs, decisions."""
    zone = ZoneInfo(portal.settings.timezone)
    directory = portal.definitions.units(chosen.id)

    def read() -> tuple[history.LineHistory, dict[str, Any]]:
        with session_scope(portal.settings.database_url) as session:
            found = history.line_history(session, directory, zone, plan_id=chosen.id, code=code)
        return found, _chain(portal)

    found, chain = await run_in_threadpool(read)
    prefect_ok = await portal.orchestrator.healthy()
    states = []
    if prefect_ok and found.run_ids:
        try:
            states = await portal.orchestrator.state_history(found.run_ids)
        except Exception:
            logger.warning("reading the state history of %s failed", code, exc_info=True)
            prefect_ok = False
    context = {
        "user": user,
        "csrf": portal.keys.csrf_token(session_binding(user.session)),
        "plan": chosen,
        "line": found,
        "timeline": history.merged(found.events, history.run_events(states)),
        "prefect_ok": prefect_ok,
        "chain": chain,
    }
    return page(request, "audit_line.html.j2", context)


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}, "application/json": {}, XLSX: {}}},
        **READ_RESPONSES,
    },
)
def export(
    portal: PortalDep,
    user: Auditor,
    chosen: PlanDep,
    format: Literal["csv", "json", "xlsx"] = "csv",
    line: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The audit trail (of one line, or of the whole plan) as CSV, JSON or XLSX."""
    name = f"nhat-ky-{chosen.id}" + (f"-{line}" if line else "") + f".{format}"
    with session_scope(portal.settings.database_url) as session:
        entries = trail(session, line_code=line or None, plan_key=chosen.id)
        if format == "xlsx":
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "export.xlsx"
                write_xlsx(entries, path, sheet_title=AUDIT_MESSAGES["sheet"])
                return attachment(path.read_bytes(), name, XLSX)
        buffer = io.StringIO()
        (write_csv if format == "csv" else write_json)(entries, buffer)
    # With a BOM, spreadsheet programs open the UTF-8 CSV with its diacritics intact.
    encoding = "utf-8-sig" if format == "csv" else "utf-8"
    return attachment(buffer.getvalue().encode(encoding), name, MEDIA[format])


@router.get(
    "/documents/{sha256}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **READ_RESPONSES},
)
def document(
    portal: PortalDep,
    user: Auditor,
    sha256: Annotated[str, PathParam(pattern=r"^[0-9a-f]{64}$")],
) -> Response:
    """A stored document version, as submitted, or a report attached to a decision."""
    with session_scope(portal.settings.database_url) as session:
        version = session.scalars(
            select(DocumentVersion).where(DocumentVersion.sha256 == sha256).limit(1)
        ).first()
        attached = session.scalars(
            select(Decision).where(Decision.attachment_sha256 == sha256).limit(1)
        ).first()
        blob = session.get(DocumentBlob, sha256)
        if blob is None or (version is None and attached is None):
            raise HTTPException(404)
        name = version.filename if version else (attached.attachment_filename if attached else None)
        return attachment(blob.content, name or sha256, blob.media_type)
