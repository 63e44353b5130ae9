"""Browser fixtures: a seeded demo database, the app served by uvicorn in a thread, and
Playwright driving Debian's Chromium (``/usr/bin/chromium``; never ``playwright install``).

Screenshots go to ``test-artifacts/`` at the repository root (gitignored).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from dashboard_helpers import Console, signed_in

from suanli.api.app import create_app
from suanli.cli.demo import prepare_with_logins
from suanli.services.demo.center import DemoClock
from suanli.settings import load_settings
from suanli.web.assets import htmx_js

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def placement_result() -> dict[str, Any]:
    """A small file in the shape ``suanli sim placement --json`` writes."""
    xs = list(range(0, 101, 10))
    return {
        "x": xs,
        "policies": {
            "fgd": {
                "median": {"alloc": [min(x, 93.0) for x in xs], "frag_amount": [x / 20 for x in xs]}
            },
            "bestfit": {
                "median": {"alloc": [min(x, 89.0) for x in xs], "frag_amount": [x / 12 for x in xs]}
            },
        },
    }


def job_run_result() -> dict[str, Any]:
    """A small file in the shape ``suanli sim-jobs jobs --json`` writes."""
    t = [float(h * 3600) for h in range(0, 49, 4)]
    return {
        "trace": "file",
        "policy": "fifo",
        "overall": {"jobs": 120, "avg_jct": 5400.0, "p99_jct": 40000.0, "utilization": 0.61},
        "allocation": {"cluster": {"t": t, "gpus": [min(64.0, 8.0 * i) for i in range(len(t))]}},
    }


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    db = tmp_path_factory.mktemp("dashboard") / "demo.db"
    _, tokens = prepare_with_logins(db)
    return db, tokens


@pytest.fixture(scope="session")
def tokens(demo_db: tuple[Path, dict[str, str]]) -> dict[str, str]:
    return demo_db[1]


@pytest.fixture(scope="session")
def base_url(demo_db: tuple[Path, dict[str, str]]) -> Iterator[str]:
    db = demo_db[0]
    root = db.parent
    sims = root / "simulations"
    sims.mkdir(exist_ok=True)  # prepare() wrote the demo's cloud-pool run here
    (sims / "placement.json").write_text(json.dumps(placement_result()), encoding="utf-8")
    (sims / "jobs-run.json").write_text(json.dumps(job_run_result()), encoding="utf-8")
    app = create_app(load_settings(database_url=f"sqlite:///{db}"), clock=DemoClock())
    app.state.simulation_dir = sims
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard server did not start")
        time.sleep(0.05)
    yield url
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def api(base_url: str, tokens: dict[str, str]) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {tokens['admin']}"}
    with httpx.Client(base_url=f"{base_url}/api/v1", timeout=30, headers=headers) as client:
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: run scripts/browser-deps.sh (make browser-deps)")
    if htmx_js() is None:
        pytest.fail(
            "htmx is not installed: run `make web-deps` (npm install htmx.org into the venv)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, base_url: str, tokens: dict[str, str]) -> Iterator[Any]:
    context = signed_in(browser, base_url, tokens["admin"])
    yield context.new_page()
    context.close()


@pytest.fixture
def console(page: Any) -> Console:
    return Console(page)
