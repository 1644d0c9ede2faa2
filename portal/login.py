"""Signing in and out of the portal (Office staff, auditors, administrators)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from duyet.messages import PORTAL
from portal.deps import BrowserSession, ClientDep, CsrfRefused, PortalDep, SignedInForm
from portal.pages import HTML, page
from portal.passwords import hash_password, needs_rehash, verify_password
from portal.security import WINDOW, SessionData, login_blocked, new_session, session_binding
from records.engine import session_scope
from records.users import find_user, record_login_attempt, set_password_hash

router = APIRouter(tags=["accounts"])
HOME_OF_ROLE = {"office": "/office", "admin": "/office", "auditor": "/audit"}


def safe_next(target: str | None) -> str | None:
    """A path on this site to go back to after login; anything else (other sites) is dropped."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _form(
    request: Request,
    portal: PortalDep,
    session: SessionData,
    target: str | None,
    *,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    csrf = portal.keys.csrf_token(session_binding(session))
    context = {"csrf": csrf, "next": target or "", "error": error}
    response = page(request, "login.html.j2", context, status=status)
    portal.keys.set_session(response, session)
    return response


@router.get("/", response_class=RedirectResponse, status_code=303)
def home() -> RedirectResponse:
    return RedirectResponse("/office", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, portal: PortalDep, session: BrowserSession, next: str = ""
) -> HTMLResponse:
    """The login form; it starts an anonymous session that its CSRF token is bound to."""
    return _form(request, portal, session or new_session(), safe_next(next))


@router.post(
    "/login",
    response_class=HTMLResponse,
    responses={
        303: {"description": "Signed in"},
        401: {"description": "Wrong username or password", **HTML},
        403: {"description": "CSRF token missing or wrong", **HTML},
        429: {"description": "Too many failed attempts", **HTML},
    },
)
def login(
    request: Request,
    portal: PortalDep,
    client: ClientDep,
    session: BrowserSession,
    csrf: Annotated[str, Form()] = "",
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    if session is None or not portal.keys.csrf_ok(csrf, session_binding(session)):
        raise CsrfRefused()
    now = dt.datetime.now(dt.UTC)
    user_id, role = None, ""
    with session_scope(portal.settings.database_url) as db:
        blocked = login_blocked(db, username=username, client_ip=client.ip, now=now)
        if not blocked:
            user = find_user(db, username=username)
            matches = verify_password(user.password_hash if user else None, password)
            ok = user is not None and matches and not user.disabled
            record_login_attempt(db, username=username, client_ip=client.ip, succeeded=ok, now=now)
            if ok and user is not None:
                user_id, role = user.id, user.role
                if needs_rehash(user.password_hash):
                    set_password_hash(db, user_id=user.id, password_hash=hash_password(password))
    target = safe_next(next)
    if blocked:
        minutes = int(WINDOW.total_seconds() // 60)
        error = PORTAL["login-throttled"].format(minutes=minutes)
        headers = {"Retry-After": str(int(WINDOW.total_seconds()))}
        response = _form(request, portal, session, target, error=error, status=429)
        response.headers.update(headers)
        return response
    if user_id is None:
        return _form(request, portal, session, target, error=PORTAL["login-failed"], status=401)
    signed_in = RedirectResponse(target or HOME_OF_ROLE.get(role, "/office"), status_code=303)
    portal.keys.set_session(signed_in, new_session(user_id))  # a new sid: no session fixation
    return signed_in


@router.post("/logout", response_class=RedirectResponse, status_code=303)
def logout(portal: PortalDep, user: SignedInForm) -> RedirectResponse:
    response = RedirectResponse("/login", status_code=303)
    portal.keys.clear_session(response)
    return response
