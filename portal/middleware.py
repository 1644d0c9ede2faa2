"""The portal's pure-ASGI middleware: security headers, HEAD wherever GET is, request size cap."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from duyet.messages import PORTAL
from portal.pages import message

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
# A form carries the document plus its other fields and the multipart framing.
FORM_OVERHEAD_BYTES = 1024 * 1024


class SecurityHeaders:
    """Adds `SECURITY_HEADERS` to every response (streaming untouched)."""

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


class HeadAsGet:
    """HEAD on a page that has no HEAD route of its own is its GET without the body.

    Every such GET is read-only; the one GET that records something (a link's opening) has its
    own HEAD handler, which records nothing, and is matched first.
    """

    def __init__(self, app: ASGIApp, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or self._has_head(scope):
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)

    def _has_head(self, scope: Scope) -> bool:
        return any(route.matches(scope)[0] is Match.FULL for route in self.routes)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse (413) a request body larger than a document plus its form, before it is read.

    A declared `Content-Length` over the cap is refused at once; a chunked body is counted as it
    arrives and refused when it passes the cap, so nothing oversized is spooled to disk.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_bytes - FORM_OVERHEAD_BYTES
        detail = PORTAL["document-too-large"].format(limit=limit)
        response = message(Request(scope), 413, PORTAL["bad-request"], detail)
        response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
