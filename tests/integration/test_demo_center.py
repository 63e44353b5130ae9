"""The demo center seeded through the services (SQLite and PostgreSQL), and the dashboard's
pages served over it (httpx TestClient; the browser suite is tests/e2e)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from suanli.api.app import create_app
from suanli.cli.demo import prepare
from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState
from suanli.services.container import build_services
from suanli.services.demo import BATCHES, CUSTOMERS, DEMO_START, DEMO_TODAY, DemoClock, seed_demo
from suanli.settings import load_settings
from suanli.web import views


def test_demo_story_and_idempotence(engine: Engine) -> None:
    clock = SimClock(DEMO_START)
    svc = build_services(engine, clock)
    seed_demo(svc, clock)
    assert clock.now() == DEMO_TODAY
    servers = views.all_servers(svc)
    assert len(servers) == sum(b[4] for b in BATCHES)
    counts = Counter(s.state for s in servers)
    # every lease found free servers of its SKU when it started
    leases = sum(n for _, _, n, _ in CUSTOMERS)
    assert counts[ServerState.LEASED] + counts[ServerState.FAILED] == leases
    assert counts[ServerState.FAILED] == 1 and counts[ServerState.MAINTENANCE] == 1
    assert counts[ServerState.BURN_IN] == 6
    overdue = svc.procurement.overdue(DEMO_TODAY.date())
    assert [(o.number, o.line_no, o.outstanding) for o in overdue] == [("PO-2025-003", 2, 10)]
    cancelled = svc.procurement.get_order("PO-2025-002").lines[1]
    assert cancelled.cancelled == 4 and cancelled.outstanding == 0
    history = views.all_transitions(svc)
    assert [t.at for t in history] == sorted(t.at for t in history)
    assert history[0].at >= DEMO_START and history[-1].at <= DEMO_TODAY
    # a second run finds the demo and writes nothing
    seed_demo(svc, SimClock(DEMO_START))
    assert len(views.all_transitions(svc)) == len(history)
    assert len(views.all_servers(svc)) == len(servers)


def test_demo_overview_figures(engine: Engine) -> None:
    clock = SimClock(DEMO_START)
    svc = build_services(engine, clock)
    seed_demo(svc, clock)
    view = views.overview(svc)
    assert view.installed.servers == 58 and view.installed.gpus == 58 * 8
    assert view.on_order.servers == 10
    assert view.sold == view.by_state["leased"] + view.by_state["cloud_pool"]
    assert view.occupancy is not None and view.breakeven_occupancy is not None
    kinds = [a.kind for a in view.alerts]
    assert kinds.count("overdue_delivery") == 1
    assert ("below_breakeven" in kinds) == (view.occupancy < view.breakeven_occupancy)
    # the trend's last day is today's state
    assert view.trend[-1].sold == view.sold and view.trend[-1].sellable == view.sellable


@pytest.fixture(scope="module")
def demo_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert prepare(path) is True
    assert prepare(path) is False  # idempotent: `make run` twice
    app = create_app(load_settings(database_url=f"sqlite:///{path}"), clock=DemoClock())
    app.state.simulation_dir = Path(path.parent / "no-such-folder")
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/", "Servers installed"),
        ("/fleet", "H8A001"),
        ("/fleet?state=failed", "failed"),
        ("/fleet/H8C001", "burn_in"),
        ("/procurement", "PO-2025-003"),
        ("/economics", "Break-even occupancy"),
        ("/economics/results?rent=75000", "NPV"),
        ("/simulation", "No result files yet"),
        ("/contracts", "Contracts"),
        ("/billing", "Billing"),
    ],
)
def test_pages_render(demo_client: TestClient, path: str, text: str) -> None:
    r = demo_client.get(path)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert text in r.text


def test_page_errors(demo_client: TestClient) -> None:
    r = demo_client.get("/fleet/NOPE")
    assert r.status_code == 404 and "NOPE" in r.text and "<html" in r.text
    r = demo_client.get("/fleet?state=bogus")
    assert r.status_code == 200 and 'role="alert"' in r.text
    r = demo_client.get("/economics/results?occupancy=1.5")
    assert 'id="econ-error"' in r.text and "occupancy" in r.text
    assert demo_client.get("/static/nothing.js").status_code == 404
    assert demo_client.get("/static/..%2Fpages.py").status_code == 404


def test_assets_come_from_installed_packages(demo_client: TestClient) -> None:
    r = demo_client.get("/static/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 1_000_000
    assert demo_client.get("/static/app.js").status_code == 200
    assert demo_client.get("/favicon.ico").status_code == 200


def test_demo_clock_starts_at_demo_today() -> None:
    ticks = iter([100.0, 100.0, 160.0])
    clock = DemoClock(monotonic=lambda: next(ticks))
    assert clock.now() == DEMO_TODAY
    assert (clock.now() - DEMO_TODAY).total_seconds() == 60.0
