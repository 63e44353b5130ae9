"""Security headers on every response (a pure ASGI middleware).

- ``X-Content-Type-Options: nosniff`` and ``X-Frame-Options: DENY`` everywhere (no page of ours
  is meant to be framed; a JSON answer is never to be sniffed as HTML).
- ``Content-Security-Policy`` on the dashboard's HTML: scripts, styles, images and connections
  from this origin only (htmx, Plotly and app.js are served from ``/static``); inline *style
  attributes* are allowed (templates and Plotly set them), inline *scripts* are not -- the chart
  specs are ``<script type="application/json">`` data, which CSP does not execute. The API docs
  (``/docs``, ``/redoc``) carry FastAPI's inline bootstrap script and keep no CSP.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[Message]],
        Callable[[Message], Awaitable[None]],
    ],
    Awaitable[None],
]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY")]
_NO_CSP = ("/docs", "/redoc")


Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class HttpMiddleware:
    """A pure ASGI middleware that acts on HTTP requests (:meth:`handle`) and passes any other
    scope (lifespan, websocket) through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        raise NotImplementedError


class SecurityHeaders(HttpMiddleware):
    async def handle(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        with_csp = not str(scope.get("path", "")).startswith(_NO_CSP)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in _ALWAYS if h[0] not in names]
                html = any(
                    n.lower() == b"content-type" and v.startswith(b"text/html") for n, v in headers
                )
                if with_csp and html and b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
