"""The dashboard's language for each request (a pure ASGI middleware).

Order: ``?lang=zh|en`` (the switch in the page header; it also sets the ``lang`` cookie for a
year), then the ``lang`` cookie, then the browser's ``Accept-Language``, then English. The
language is set in :mod:`suanli.core.i18n`'s context variable before the page runs, so the
templates and the chart titles built in Python both see it. The JSON API is not translated:
its error codes and field names are the contract.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from suanli.core import i18n
from suanli.web.security import HttpMiddleware, Message, Receive, Send

COOKIE = "lang"
_YEAR = 365 * 24 * 3600


def choose(query: str, cookie_header: str | None, accept_language: str | None) -> tuple[str, bool]:
    """The language of a request and whether it was chosen by ``?lang=`` (to remember it)."""
    asked = i18n.normalise((parse_qs(query).get("lang") or [""])[-1])
    if asked:
        return asked, True
    if cookie_header:
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(cookie_header)
        except Exception:  # a malformed cookie header is ignored, not an error page
            jar = SimpleCookie()
        remembered = i18n.normalise(jar[COOKIE].value) if COOKIE in jar else None
        if remembered:
            return remembered, False
    return i18n.negotiate(accept_language), False


class Language(HttpMiddleware):
    async def handle(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        lang, switched = choose(
            scope.get("query_string", b"").decode("latin-1"),
            headers.get("cookie"),
            headers.get("accept-language"),
        )
        i18n.set_language(lang)
        scope.setdefault("state", {})["lang"] = lang

        async def send_with_cookie(message: Message) -> None:
            if switched and message["type"] == "http.response.start":
                cookie = f"{COOKIE}={lang}; Path=/; Max-Age={_YEAR}; SameSite=Lax"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
