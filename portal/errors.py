"""Every failure ends on a plain Vietnamese page with the right status code, never a traceback."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from definitions.stage_rules import IllegalTransition
from duyet.messages import PORTAL
from portal.deps import CsrfRefused, Forbidden, LoginRequired
from portal.orchestrator import PrefectUnavailable
from portal.pages import message
from records.engine import is_unavailable
from records.errors import RecordError

logger = logging.getLogger("duyet.portal")

RECORD_STATUS = {
    "token-unknown": 404,
    "cycle-unknown": 404,
    "line-unknown": 404,
    "user-unknown": 404,
    "token-expired": 410,
    "token-revoked": 410,
    "token-used": 409,
    "already-decided": 409,
    "cycle-moved": 409,
    "cycle-closed": 409,
    "version-exists": 409,
    "no-document": 409,
    "unit-answered": 409,
    "user-exists": 409,
    "document-too-large": 413,
    "media-type-refused": 415,
    "schema-not-current": 503,
}
HTTP_TITLES = {404: "not-found", 405: "bad-request", 400: "bad-request"}
STORAGE_ERRORS = (DBAPIError, DisconnectionError, PoolTimeout)
STORAGE_RETRY_AFTER = "30"


def status_of(error: RecordError) -> int:
    return RECORD_STATUS.get(error.code, 400)


async def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = PORTAL[HTTP_TITLES.get(exc.status_code, "bad-request")]
    detail = PORTAL["not-found.detail"] if exc.status_code == 404 else ""
    return message(request, exc.status_code, title, detail, headers=exc.headers)


async def _invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    fields = sorted({str(error["loc"][-1]) for error in exc.errors() if error.get("loc")})
    detail = PORTAL["invalid-form"].format(fields=", ".join(fields) or "—")
    return message(request, 422, PORTAL["bad-request"], detail)


async def _login(request: Request, exc: Exception) -> Response:
    if request.method in ("GET", "HEAD"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return message(request, 401, PORTAL["login-required"])


async def _forbidden(request: Request, exc: Exception) -> Response:
    return message(request, 403, PORTAL["forbidden"], PORTAL["forbidden.detail"])


async def _csrf(request: Request, exc: Exception) -> Response:
    return message(request, 403, PORTAL["csrf"], PORTAL["csrf.detail"])


async def _record(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RecordError | IllegalTransition)
    status = status_of(exc) if isinstance(exc, RecordError) else 409
    return message(request, status, PORTAL["bad-request"], exc.message)


async def _prefect(request: Request, exc: Exception) -> Response:
    return message(request, 503, PORTAL["server-error"], PORTAL["prefect-down"])


async def _storage(request: Request, exc: Exception) -> Response:
    """503 when the records database is down, locked past its busy timeout, full or read-only:
    the transaction rolled back, so the same request may simply be sent again later."""
    if not is_unavailable(exc):
        return await _unexpected(request, exc)
    cause = getattr(exc, "orig", None) or exc  # not str(exc): it carries the SQL parameters
    logger.warning(
        "records database unavailable on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(cause).__name__,
        (str(cause).splitlines() or [""])[0],
    )
    headers = {"Retry-After": STORAGE_RETRY_AFTER}
    return message(request, 503, PORTAL["server-error"], PORTAL["storage-down"], headers=headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    logger.exception("unexpected error on %s %s", request.method, request.url.path)
    return message(request, 500, PORTAL["server-error"], PORTAL["server-error.detail"])


def install(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(LoginRequired, _login)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(CsrfRefused, _csrf)
    app.add_exception_handler(RecordError, _record)
    app.add_exception_handler(IllegalTransition, _record)
    app.add_exception_handler(PrefectUnavailable, _prefect)
    for storage_error in STORAGE_ERRORS:
        app.add_exception_handler(storage_error, _storage)
    app.add_exception_handler(Exception, _unexpected)
