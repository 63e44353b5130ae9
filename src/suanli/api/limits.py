"""The request-size limit, enforced before any body is parsed (a pure ASGI middleware).

- A ``Content-Length`` above :data:`MAX_BODY_BYTES` is answered 413 ``request.too_large`` at
  once, without reading the body; an unreadable ``Content-Length`` is 400 ``request.invalid``.
- A body without a length (chunked) is counted while the application reads it; past the limit
  the application is told the client went away, whatever it answers is dropped, and the client
  gets the same 413 envelope.

:class:`TextGuard` refuses JSON bodies that are not text (bytes no JSON encoding decodes) or that
hold NUL or lone-surrogate escapes, before parsing.

64 MiB is above the largest legitimate body (a 50,000-record usage batch or a 100,000-row import
is about 10-15 MB) and far below the 200 MB bodies that used to be parsed in full.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 64 * 1024 * 1024


async def _answer(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message, "fields": {"body": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 413:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies above ``max_bytes`` (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"the request body is limited to {self.max_bytes} bytes"
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared < 0 or not length.isdigit():
                await _answer(send, 400, "request.invalid", "Content-Length is not a byte count")
                return
            if declared > self.max_bytes:
                await _answer(send, 413, "request.too_large", too_large)
                return
        seen = 0
        exceeded = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            if exceeded:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not exceeded:
                await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            await _answer(send, 413, "request.too_large", too_large)


# JSON escapes no stored text may hold: NUL, and a UTF-16 surrogate that is not half of a
# pair. An escape counts only after an even run of backslashes (``\\u0000`` is plain text).
_FREE = rb"(?:^|[^\\])(?:\\\\)*"
_HIGH = rb"\\u[dD][89abAB][0-9a-fA-F]{2}"
_LOW = rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}"
_BAD_ESCAPE = re.compile(
    _FREE + rb"(?:\\u0000|" + _HIGH + rb"(?!" + _LOW + rb")|(?<!" + _HIGH + rb")" + _LOW + rb")"
)


def _is_text(body: bytes) -> bool:
    """Whether ``json.loads`` can decode ``body`` (UTF-8, or UTF-16/32 by its first bytes)."""
    try:
        body.decode(json.detect_encoding(body), "surrogatepass")
    except UnicodeDecodeError:
        return False
    return True


class TextGuard:
    """Refuse JSON bodies that are not text, or whose strings hold NUL or a lone surrogate: 422
    ``request.invalid_text``, before parsing. FastAPI would answer bytes it cannot decode with a
    bare 400 ``{"detail": ...}`` outside the envelope; NUL and lone surrogates cannot be stored
    (PostgreSQL ``text`` takes no NUL, no driver encodes a lone surrogate as UTF-8). Refusing them
    here gives one answer for every field of every route. A body without a content type counts
    as JSON, as FastAPI parses it so. Runs inside :class:`BodyLimit`, so the body it buffers is
    already bounded (FastAPI buffers it whole to parse it anyway)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"")
        if scope["type"] != "http" or (content_type and b"json" not in content_type):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if not _is_text(body):
            await _answer(send, 422, "request.invalid_text", "the body is not JSON text (UTF-8)")
            return
        found = _BAD_ESCAPE.search(body)
        if found is not None:
            what = "NUL" if found.group().endswith(b"0000") else "a lone surrogate"
            await _answer(
                send,
                422,
                "request.invalid_text",
                f"a string holds {what} ({found.group()[-6:].decode()})",
            )
            return
        replay = iter(messages)

        async def replayed() -> Message:
            return next(replay, None) or await receive()

        await self.app(scope, replayed, send)
