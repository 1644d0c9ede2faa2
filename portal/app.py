"""The portal's FastAPI app, built by `create_app`; uvicorn serves `portal.app:served --factory`.

Nothing is built at import time. The app refuses to start without a signing secret and a public
base URL (every link is built from it, never from a request's Host header), and with the dev
inbox on a public URL that is not loopback.
"""

from __future__ import annotations

import gc

from fastapi import Depends, FastAPI, Request

from duyet.settings import Settings, get_settings
from notifications.devsink import require_dev_mail
from portal import audit, devinbox, errors, health, login, office, register, reviewers
from portal.deps import CsrfRefused, Portal, portal_of
from portal.middleware import FORM_OVERHEAD_BYTES, BodyLimit, HeadAsGet, SecurityHeaders
from portal.orchestrator import Orchestrator
from portal.pages import make_templates
from portal.security import Keys, cross_site, origin_of
from records.migrate import ensure_schema


async def same_origin(request: Request) -> None:
    """Refuse what a browser posts from another site's page, whatever CSRF token it carries."""
    own_origin = origin_of((await portal_of(request)).settings.require_public_base_url())
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
    routers = (health, reviewers, login, office, audit, register)
    for router in (module.router for module in routers):
        app.include_router(router)
    if settings.dev_mail:
        app.include_router(devinbox.router)
    app.add_middleware(HeadAsGet, routes=app.router.routes)
    app.add_middleware(BodyLimit, max_bytes=settings.max_document_bytes + FORM_OVERHEAD_BYTES)
    app.add_middleware(SecurityHeaders)  # outermost: on every answer, a refusal included
    return app


def served() -> FastAPI:
    """The portal as uvicorn serves it (`uvicorn portal.app:served --factory`): `create_app`, then
    what it loaded (Prefect's client, SQLAlchemy, the templates: about 300,000 objects) frozen out
    of the garbage collector's sight. Each full collection walked them all, a pause of every
    request: at 20 clients the link page's p95 went from 228 to 143 ms. Not in `create_app`:
    a test process builds many apps, and cyclic garbage among frozen objects is never freed."""
    app = create_app()
    gc.collect()
    gc.freeze()
    return app
