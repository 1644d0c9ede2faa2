"""A synchronous httpx client that calls an ASGI app in-process (no Starlette TestClient)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal


class AppTransport(httpx.BaseTransport):
    """Runs each request through `httpx.ASGITransport` on an event loop in a helper thread."""

    def __init__(self, portal: BlockingPortal, app: Any, client_ip: str, raises: bool) -> None:
        self.portal = portal
        self.asgi = httpx.ASGITransport(
            app=app, client=(client_ip, 50123), raise_app_exceptions=raises
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            forwarded = httpx.Request(
                request.method, request.url, headers=request.headers, content=body
            )
            response = await self.asgi.handle_async_request(forwarded)
            content = await response.aread()
            return response.status_code, response.headers.raw, content

        status, headers, content = self.portal.call(call)
        return httpx.Response(status, headers=headers, content=content, request=request)


@contextmanager
def app_client(
    app: Any,
    *,
    base_url: str = "http://portal.test",
    client_ip: str = "10.1.2.3",
    raise_app_exceptions: bool = True,
) -> Iterator[httpx.Client]:
    with start_blocking_portal() as portal:
        transport = AppTransport(portal, app, client_ip, raise_app_exceptions)
        with httpx.Client(transport=transport, base_url=base_url, follow_redirects=False) as client:
            yield client
