"""The portal's FastAPI app, built by `create_app` (uvicorn: `portal.app:create_app --factory`).

Nothing is built at import time. The app refuses to start without a signing secret and a public
base URL (every link is built from it, never from a request's Host header), and with the dev
inbox on a public URL that is not loopback.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duyet.settings import Settings, get_settings
from notifications.devsink import require_dev_mail
from portal import audit, devinbox, errors, health, login, office, register, reviewers
from portal.deps import CsrfRefused, Portal, portal_of
from portal.orchestrator import Orchestrator
from portal.pages import make_templates
from portal.security import Keys, cross_site, origin_of
from records.migrate import ensure_schema

SECURITY_HEADERS = {
    # Inline styles and inline SVG only: no script runs anywhere in the portal.
    b"content-security-policy": (
        b"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",  # a link token must never leak in a Referer header
    b"x-frame-options": b"DENY",
}


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every response (pure ASGI: streaming untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS.items() if k not in present]
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)


async def same_origin(request: Request) -> None:
    """Refuse what a browser posts from another site's page, whatever CSRF token it carries."""
    own_origin = origin_of(portal_of(request).settings.require_public_base_url())
    if cross_site(request.method, request.headers, own_origin=own_origin):
        raise CsrfRefused()


def create_app(settings: Settings | None = None) -> FastAPI:
    """The portal for `settings` (default: from the environment)."""
    settings = settings if settings is not None else get_settings()
    secret = settings.require_secret()
    public_url = settings.require_public_base_url()
    if settings.dev_mail:
        require_dev_mail(settings)
    ensure_schema(settings.database_url)
    app = FastAPI(
        title="duyet portal",
        summary="Reviewers' link pages, the Office's board, the auditors' history.",
        version="0.1.0",
        docs_url=None,  # Swagger UI needs scripts; the schema is at /openapi.json
        redoc_url=None,
        dependencies=[Depends(same_origin)],
    )
    app.state.portal = Portal(
        settings=settings,
        templates=make_templates(settings.timezone),
        keys=Keys(secret, secure_cookies=public_url.startswith("https://")),
        orchestrator=Orchestrator.current(),
    )
    errors.install(app)
    app.add_middleware(SecurityHeaders)
    routers = (health, reviewers, login, office, audit, register)
    for router in (module.router for module in routers):
        app.include_router(router)
    if settings.dev_mail:
        app.include_router(devinbox.router)
    return app
