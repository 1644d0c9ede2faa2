"""Rendering pages: one Jinja2 environment (autoescaped, strict), helpers for plain pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from duyet.messages import AUDIT_ACTIONS, PORTAL, PROGRESS, STAGES, VERDICTS, capitalize

TEMPLATES = Path(__file__).resolve().parent / "templates"
NO_STORE = {"Cache-Control": "no-store"}
HTML: dict[str, Any] = {"content": {"text/html": {}}}  # for `responses=` in the schema


def make_templates(timezone: str) -> Jinja2Templates:
    """The portal's templates; times are shown in `timezone`."""
    zone = ZoneInfo(timezone)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # the templates ship with the code: no stat() on every render
    )

    def local(moment: dt.datetime | None, fmt: str = "%d/%m/%Y %H:%M") -> str:
        return moment.astimezone(zone).strftime(fmt) if moment is not None else "—"

    env.filters.update(local=local, dmy=_dmy, size=_size, capitalize=capitalize)
    env.globals.update(
        M=PORTAL, stages=STAGES, verdicts=VERDICTS, progress=PROGRESS, actions=AUDIT_ACTIONS
    )
    return Jinja2Templates(env=env)


def page(
    request: Request,
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.portal.templates
    return templates.TemplateResponse(
        request,
        name,
        dict(context or {}),
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


def message(
    request: Request,
    status: int,
    title: str,
    detail: str = "",
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> HTMLResponse:
    """A plain page that says one thing, with the status code that goes with it."""
    context = {"title": title, "detail": detail, "decided": None, "version": None} | extra
    return page(request, "message.html.j2", context, status=status, headers=headers)


def attachment(content: bytes, filename: str, media_type: str) -> Response:
    """A download that keeps its (Vietnamese) file name and is never rendered in place."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    headers = {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    return Response(content, media_type=media_type, headers=headers)


def _dmy(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day is not None else "—"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} byte"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB".replace(".", ",")
    return f"{size / 1024 / 1024:.1f} MB".replace(".", ",")
