"""Screenshots of every dashboard page of the demo center at 1280 and 390 px wide, into docs/img.

Seeds the demo center (docs/dashboard.md) into a temporary SQLite file, serves it with uvicorn on
a free local port and drives Debian's Chromium with Playwright (``make browser-deps``, ``make
web-deps``), signed in as the demo's admin. Each page is shot whole (full page) after its charts
are drawn, as ``docs/img/dashboard-<page>-<width>.png``; ``--lang zh`` shoots the Chinese pages
as ``dashboard-zh-<page>-<width>.png``.

    .venv/bin/python scripts/screenshots.py                 # English, both widths
    .venv/bin/python scripts/screenshots.py --lang zh --width 390 --out /tmp/shots
"""

from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
PAGES = (
    ("overview", "/"),
    ("fleet", "/fleet"),
    ("server", "/fleet/H8A001"),
    ("procurement", "/procurement"),
    ("contracts", "/contracts"),
    ("customer", "/customers/zhipu"),
    ("usage", "/customers/zhipu/usage"),
    ("billing", "/billing"),
    ("invoice", None),  # the invoice with the SLA credit, linked from the overview
    ("economics", "/economics"),
    ("economics-plan", "/economics/plan"),
    ("twin", "/twin"),
    ("simulation", "/simulation"),
    ("reports", "/reports"),
)
HEIGHT = {1280: 800, 390: 844}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def demo_server(folder: Path) -> Iterator[tuple[str, str]]:
    """The seeded demo center served on a local port: ``(base_url, admin_token)``."""
    import uvicorn

    from suanli.api.app import create_app
    from suanli.cli.demo import prepare_with_logins
    from suanli.services.demo.center import DemoClock
    from suanli.settings import load_settings

    db = folder / "demo.db"
    _, tokens = prepare_with_logins(db)
    app = create_app(load_settings(database_url=f"sqlite:///{db}"), clock=DemoClock())
    app.state.simulation_dir = folder / "simulations"
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the demo server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", tokens["admin"]
    finally:
        server.should_exit = True
        thread.join(10)


def settle(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    charts = page.locator("figure.chart")
    for i in range(charts.count()):
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=20_000)
    page.wait_for_timeout(300)  # plotly's resize after the layout settles


def shoot(browser: Any, base: str, token: str, width: int, lang: str, out: Path) -> list[Path]:
    context = browser.new_context(
        viewport={"width": width, "height": HEIGHT.get(width, 800)}, device_scale_factor=1
    )
    context.add_cookies([{"name": "suanli_session", "value": token, "url": base}])
    context.add_cookies([{"name": "lang", "value": lang, "url": base}])
    page = context.new_page()
    page.set_default_timeout(180_000)  # the planning page solves a MILP on load
    written = []
    try:
        for name, path in PAGES:
            if path is None:
                page.goto(base + "/")
                href = page.locator('[data-figure="sla-credits"] a').get_attribute("href")
                path = (href or "/billing").split("#")[0]
            page.goto(base + path)
            settle(page)
            prefix = "dashboard" if lang == "en" else f"dashboard-{lang}"
            target = out / f"{prefix}-{name}-{width}.png"
            page.screenshot(path=str(target), full_page=True)
            written.append(target)
    finally:
        context.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    parser.add_argument("--width", type=int, action="append", help="default: 1280 and 390")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print("/usr/bin/chromium is missing: run `make browser-deps`", file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        demo_server(Path(tmp)) as (base, token),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            for width in args.width or [1280, 390]:
                for path in shoot(browser, base, token, width, args.lang, args.out):
                    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                    print(f"wrote {shown}")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
