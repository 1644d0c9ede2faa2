"""The baseline of the link-page measure: a bare FastAPI handler at the portal's path, served by
the same uvicorn command as the portal (`python -m uvicorn bench.bare_app:create_app --factory`)."""

from __future__ import annotations

import gc

from fastapi import FastAPI
from starlette.responses import HTMLResponse

PAGE = "<!doctype html><html lang=vi><title>Góp ý</title><p>{token}</p></html>"


def create_app() -> FastAPI:
    """As `portal.app.served` serves the portal: what is loaded, frozen out of the collector's
    sight."""
    app = FastAPI(docs_url=None, redoc_url=None)

    @app.get("/r/{token}", response_class=HTMLResponse)
    def link_page(token: str) -> HTMLResponse:
        return HTMLResponse(PAGE.format(token=token[:8]))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    gc.collect()
    gc.freeze()
    return app
