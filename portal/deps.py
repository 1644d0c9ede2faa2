"""What handlers receive: the portal's state, the client, the signed-in account, checked forms."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, cast

from fastapi import Depends, Form, Query, Request
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from definitions.plan import Plan
from duyet.definition_files import Definitions, definitions
from duyet.settings import Settings
from portal.orchestrator import Orchestrator
from portal.security import SESSION_COOKIE, Keys, SessionData, session_binding
from records.engine import session_scope
from records.users import get_user

OFFICE_ROLES = frozenset({"office", "admin"})
AUDIT_ROLES = frozenset({"auditor", "admin"})
READERS = 2


@dataclass(frozen=True)
class Portal:
    """Everything one app was built with (`create_app`), kept on `app.state.portal`."""

    settings: Settings
    templates: Jinja2Templates
    keys: Keys
    orchestrator: Orchestrator
    # The threads that read reviewers' link pages (`portal.reviewers`).
    readers: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(READERS, thread_name_prefix="duyet-page")
    )

    @property
    def definitions(self) -> Definitions:
        return definitions(self.settings)


@dataclass(frozen=True)
class Client:
    """Who is on the other end, as far as the connection tells (for the audit chain)."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class Principal:
    """A signed-in account, re-read from the database for this request."""

    user_id: int
    username: str
    display_name: str
    role: str
    session: SessionData

    @property
    def actor(self) -> str:
        return f"portal:{self.username}"


class LoginRequired(Exception):
    """No valid session: GET goes to the login page, anything else is refused (401)."""


class Forbidden(Exception):
    """Signed in, but the role does not allow this (403)."""


class CsrfRefused(Exception):
    """A form without a valid CSRF token for its session or link (403)."""


# Dependencies that neither wait nor read the database are `async`: FastAPI runs a plain `def`
# dependency on its thread pool, a round trip per dependency per request.
async def portal_of(request: Request) -> Portal:
    return cast(Portal, request.app.state.portal)


async def client_of(request: Request) -> Client:
    # Behind a reverse proxy, run uvicorn with --proxy-headers so that this is the real address.
    host = request.client.host if request.client else "unknown"
    return Client(ip=host[:45], user_agent=request.headers.get("user-agent", "")[:500])


PortalDep = Annotated[Portal, Depends(portal_of)]
ClientDep = Annotated[Client, Depends(client_of)]


async def browser_session(request: Request, portal: PortalDep) -> SessionData | None:
    return portal.keys.load_session(request.cookies.get(SESSION_COOKIE))


BrowserSession = Annotated[SessionData | None, Depends(browser_session)]


def current_user(portal: PortalDep, session: BrowserSession) -> Principal:
    if session is None or session.user_id is None:
        raise LoginRequired()
    with session_scope(portal.settings.database_url) as db:
        user = get_user(db, user_id=session.user_id)
        if user is None or user.disabled:
            raise LoginRequired()
        return Principal(user.id, user.username, user.display_name, user.role, session)


CurrentUser = Annotated[Principal, Depends(current_user)]


async def office_user(user: CurrentUser) -> Principal:
    if user.role not in OFFICE_ROLES:
        raise Forbidden()
    return user


async def auditor(user: CurrentUser) -> Principal:
    if user.role not in AUDIT_ROLES:
        raise Forbidden()
    return user


OfficeUser = Annotated[Principal, Depends(office_user)]
Auditor = Annotated[Principal, Depends(auditor)]


async def checked_form(
    portal: PortalDep, user: CurrentUser, csrf: Annotated[str, Form()] = ""
) -> Principal:
    """A signed-in account's form, with the CSRF token of its session."""
    if not portal.keys.csrf_ok(csrf, session_binding(user.session)):
        raise CsrfRefused()
    return user


async def office_form(user: Annotated[Principal, Depends(checked_form)]) -> Principal:
    return await office_user(user)


SignedInForm = Annotated[Principal, Depends(checked_form)]


async def chosen_plan(portal: PortalDep, plan: Annotated[str, Query(max_length=100)] = "") -> Plan:
    """The plan named by `?plan=`, else the first by id (pages offer the others); 404 when
    unknown. Forms always name their plan: line codes repeat across departments' plans."""
    ids = portal.definitions.plan_ids()
    chosen = plan or (ids[0] if ids else "")
    if chosen not in ids:
        raise HTTPException(404)
    return portal.definitions.plan(chosen)


def plan_choices(portal: Portal) -> list[tuple[str, str]]:
    """(id, title) of every plan, for the pages' plan picker."""
    defs = portal.definitions
    return [(plan_id, defs.plan(plan_id).title) for plan_id in defs.plan_ids()]


PlanDep = Annotated[Plan, Depends(chosen_plan)]
OfficeForm = Annotated[Principal, Depends(office_form)]
