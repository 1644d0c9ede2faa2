"""`/dev/inbox`: the mail the dev sink kept, links clickable, so one person can play every role.
Mounted only when `DUYET_DEV_MAIL=1` with a loopback public URL (see `notifications.devsink`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse

from notifications.devsink import URL, read_inbox, read_message
from portal.deps import PortalDep
from portal.pages import page

router = APIRouter(prefix="/dev/inbox", tags=["dev"])


@router.get("", response_class=HTMLResponse)
def inbox(request: Request, portal: PortalDep) -> HTMLResponse:
    return page(request, "inbox.html.j2", {"messages": read_inbox(portal.settings)})


@router.get("/{key}", response_class=HTMLResponse, responses={404: {"description": "No such mail"}})
def message(
    request: Request, portal: PortalDep, key: Annotated[str, PathParam(max_length=200)]
) -> HTMLResponse:
    found = read_message(portal.settings, key)
    if found is None:
        raise HTTPException(404)
    parts = URL.split(found.text)
    links = URL.findall(found.text)
    segments = [(part, links[i] if i < len(links) else None) for i, part in enumerate(parts)]
    return page(request, "inbox_message.html.j2", {"mail": found, "segments": segments})
