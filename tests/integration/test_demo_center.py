"""The demo center seeded through the services (SQLite and PostgreSQL), and the dashboard's
pages served over it (httpx TestClient; the browser suite is tests/e2e)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from suanli.api.app import create_app
from suanli.cli.demo import prepare, prepare_with_logins
from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState
from suanli.services.container import build_services
from suanli.services.demo.center import BATCHES, DEMO_START, DEMO_TODAY, DemoClock, seed_demo
from suanli.services.demo.money import CUSTOMERS
from suanli.settings import load_settings
from suanli.web import money_views as mv
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
    leases = sum(c.servers for c in CUSTOMERS)
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
    # the money side: every customer's September invoice, with the SLA credit on Zhipu's
    september = svc.money.ledger.list_invoices(period="2025-09", limit=500).items
    assert {i.customer for i in september} == {c.code for c in CUSTOMERS} | {"pixel", "dawn"}
    zhipu = next(i for i in september if i.customer == "zhipu")
    credit = [
        ln for ln in svc.money.ledger.get_invoice(zhipu.number).lines if ln.kind == "sla_credit"
    ]
    assert [ln.net for ln in credit] == [Decimal("-950.00")]
    aging = {r.customer: r for r in svc.money.ledger.aging(DEMO_TODAY.date())}
    assert aging["hefei"].buckets["90+"] > 0
    assert all(r.buckets["90+"] == 0 for code, r in aging.items() if code != "hefei")
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
    money = [a.kind for a in mv.money_alerts(svc, DEMO_TODAY.date())]
    assert money.count("contract_expiring") == 3 and money.count("receivable_90") == 1
    # the trend's last day is today's state
    assert view.trend[-1].sold == view.sold and view.trend[-1].sellable == view.sellable


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    assert prepare(path) is True
    fresh, tokens = prepare_with_logins(path)  # idempotent: `make run` twice
    assert fresh is False and set(tokens) == {"admin", "zhipu-portal"}
    app = create_app(load_settings(database_url=f"sqlite:///{path}"), clock=DemoClock())
    app.state.simulation_dir = path.parent / "simulations"  # where prepare() wrote the pool run
    with TestClient(app) as c:
        yield c, tokens


@pytest.fixture
def admin(demo: tuple[TestClient, dict[str, str]]) -> Iterator[TestClient]:
    client, tokens = demo
    client.cookies.set("suanli_session", tokens["admin"])
    yield client
    client.cookies.clear()


@pytest.fixture
def customer(demo: tuple[TestClient, dict[str, str]]) -> Iterator[TestClient]:
    client, tokens = demo
    client.cookies.set("suanli_session", tokens["zhipu-portal"])
    yield client
    client.cookies.clear()


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/", "Servers installed"),
        ("/fleet", "H8A001"),
        ("/fleet?state=failed", "failed"),
        ("/fleet/H8C001", "burn_in"),
        ("/fleet/H8A001", "lease L-000001"),
        ("/procurement", "PO-2025-003"),
        ("/economics", "Break-even occupancy"),
        ("/economics/results?rent=75000", "NPV"),
        ("/simulation", "demo-cloud-pool-2025-09.json"),
        ("/contracts", "L-000008"),
        ("/billing", "INV-2025-000001"),
        ("/customers/hefei", "Hefei Auto Vision"),
    ],
)
def test_pages_render(admin: TestClient, path: str, text: str) -> None:
    r = admin.get(path)
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("text/html")
    assert text in r.text


def test_simulation_page_runs_the_job_simulator(admin: TestClient) -> None:
    r = admin.get("/simulation/run", params={"policy": "sjf", "jobs": 300, "nodes": 4, "load": 1.5})
    assert r.status_code == 200 and "sim-error" not in r.text
    assert 'data-figure="jobs">jobs 300<' in r.text and "policy sjf" in r.text
    assert r.text.count('class="chart"') == 1  # allocated GPUs over time
    bad = admin.get("/simulation/run", params={"jobs": 999999})
    assert 'id="sim-error"' in bad.text and "jobs must be 10..5000" in bad.text
    assert "unknown policy" in admin.get("/simulation/run", params={"policy": "nope"}).text


def test_economics_offers_this_centers_figures(admin: TestClient) -> None:
    page = admin.get("/economics").text
    link = re.search(r'<p id="from-fleet">.*?href="([^"]+)"', page, re.S)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    h800 = [c for c in CUSTOMERS if c.gpu == "H800"]
    rent = sum(c.rent * c.servers for c in h800) / sum(c.servers for c in h800)
    # 30 H800 installed: 24 bought at 2.1 M and 6 at 2.8 M
    assert "count=30" in target and "unit_price=2240000" in target and f"rent={rent:.0f}" in target
    filled = admin.get(target).text
    assert f'value="{rent:.0f}"' in filled and 'value="30"' in filled
    assert 'id="econ-error"' not in filled


def test_page_errors(admin: TestClient) -> None:
    r = admin.get("/fleet/NOPE")
    assert r.status_code == 404 and "NOPE" in r.text and "<html" in r.text
    r = admin.get("/fleet?state=bogus")
    assert r.status_code == 200 and 'role="alert"' in r.text
    r = admin.get("/economics/results?occupancy=1.5")
    assert 'id="econ-error"' in r.text and "occupancy" in r.text
    assert admin.get("/static/nothing.js").status_code == 404
    assert admin.get("/static/..%2Fpages.py").status_code == 404


def test_sign_in_and_out(demo: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = demo
    client.cookies.clear()
    r = client.get("/fleet?state=leased", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Ffleet%3Fstate%3Dleased"
    assert (
        client.get("/fleet", headers={"HX-Request": "true"}, follow_redirects=False)
        .headers["hx-redirect"]
        .startswith("/login")
    )
    r = client.post("/login", data={"token": "sl_wrong", "next": "/fleet"}, follow_redirects=False)
    assert r.status_code == 401 and "unknown token" in r.text
    r = client.post(
        "/login", data={"token": tokens["admin"], "next": "//evil.example"}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    assert client.get("/fleet").status_code == 200
    r = client.post("/logout", follow_redirects=False)
    assert r.headers["location"] == "/login"
    client.cookies.clear()
    assert client.get("/", follow_redirects=False).status_code == 303


def test_customer_sees_only_its_own_pages(customer: TestClient) -> None:
    for path in ("/", "/fleet", "/fleet/H8A001", "/procurement", "/economics", "/simulation"):
        r = customer.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/customers/zhipu", path
    mine = customer.get("/customers/zhipu")
    assert mine.status_code == 200 and "SLA incidents" in mine.text and "H8A001" in mine.text
    other = customer.get("/customers/hefei")
    assert other.status_code == 404 and "Hefei Auto Vision" not in other.text
    billing = customer.get("/billing").text
    assert "/customers/zhipu" in billing and "/customers/hefei" not in billing
    contracts = customer.get("/contracts").text
    assert "L-000001" in contracts and "L-000004" not in contracts


def test_assets_come_from_installed_packages(admin: TestClient) -> None:
    r = admin.get("/static/plotly.min.js")
    assert r.status_code == 200 and len(r.content) > 1_000_000
    assert b"plotly.js v" in r.content[:200]

    from suanli.web.assets import plotly_js

    assert plotly_js() is not None and "plotly.js-dist-min" in str(plotly_js())  # npm, no wheel
    assert admin.get("/static/app.js").status_code == 200
    assert admin.get("/favicon.ico").status_code == 200


def test_demo_clock_starts_at_demo_today() -> None:
    ticks = iter([100.0, 100.0, 160.0])
    clock = DemoClock(monotonic=lambda: next(ticks))
    assert clock.now() == DEMO_TODAY
    assert (clock.now() - DEMO_TODAY).total_seconds() == 60.0
