"""Helpers of the dashboard browser tests (console capture, screenshots)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Console:
    """Console errors and uncaught page errors seen by one page."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def page_name(path: str) -> str:
    """``/customers/zhipu/usage`` → ``customers-zhipu-usage`` (``/`` → ``overview``)."""
    return path.split("?")[0].strip("/").replace("/", "-") or "overview"


def signed_in(
    browser: Any, base_url: str, token: str, viewport: tuple[int, int] = (1280, 800)
) -> Any:
    """A browser context carrying the session cookie the login form would set."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    context.add_cookies([{"name": "suanli_session", "value": token, "url": base_url}])
    return context
