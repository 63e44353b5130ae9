"""Issue 16 on the seeded demo center (httpx TestClient; the browser paths are in tests/e2e):
every chart has axis titles with units and distinct colours, the state and procurement figures
say what they count, empty charts become a sentence, and the drill-down pages (invoice with
every line, credit notes and payments; a customer's usage; a server's downtime) show the rows
behind the overview's numbers, to staff and to the customer they belong to only."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.cli.demo import prepare_with_logins
from suanli.services.container import Services, build_services
from suanli.services.demo.center import DemoClock
from suanli.settings import load_settings
from suanli.store.db import make_engine, upgrade

CHART = re.compile(r'<figure class="chart" id="([^"]+)">.*?<script type="application/json">(.*?)</script>', re.S)  # fmt: skip
PAGES = [
    "/", "/fleet/H8A001", "/procurement", "/economics", "/simulation", "/contracts", "/billing",
    "/customers/zhipu", "/customers/zhipu/usage",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    path = tmp_path_factory.mktemp("drill") / "demo.db"
    _, tokens = prepare_with_logins(path)
    app = create_app(load_settings(database_url=f"sqlite:///{path}"), clock=DemoClock())
    app.state.simulation_dir = path.parent / "simulations"
    with TestClient(app) as c:
        yield c, tokens


@pytest.fixture
def admin(demo: tuple[TestClient, dict[str, str]]) -> Iterator[TestClient]:
    client, tokens = demo
    client.cookies.set("suanli_session", tokens["admin"])
    yield client
    client.cookies.clear()


@pytest.fixture
def portal(demo: tuple[TestClient, dict[str, str]]) -> Iterator[TestClient]:
    client, tokens = demo
    client.cookies.set("suanli_session", tokens["zhipu-portal"])
    yield client
    client.cookies.clear()


def charts(text: str) -> dict[str, dict[str, Any]]:
    return {cid: json.loads(spec.replace("<\\/", "</")) for cid, spec in CHART.findall(text)}


def words(text: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def services(client: TestClient) -> Services:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc


def test_every_chart_has_axis_titles_and_distinct_colours(admin: TestClient) -> None:
    seen = 0
    for path in PAGES:
        for cid, spec in charts(admin.get(path).text).items():
            layout = spec["layout"]
            for axis in ("xaxis", "yaxis"):
                assert layout[axis]["title"]["text"].strip(), (path, cid, axis)
            colors = [t["marker"]["color"] for t in spec["data"]
                      if isinstance(t.get("marker", {}).get("color"), str) and t.get("showlegend", True)]  # fmt: skip
            assert len(colors) == len(set(colors)), (path, cid)
            seen += 1
    assert seen >= 14
    page = charts(admin.get("/contracts").text)
    revenue = page["chart-customer-revenue"]
    assert len(revenue["data"]) >= 10  # ten customers billed, ten colours
    assert len({t["marker"]["color"] for t in revenue["data"]}) == len(revenue["data"])
    by_customer = {t["name"]: t["marker"]["color"] for t in revenue["data"]}
    for bar in page["chart-gantt"]["data"]:  # a customer has one colour on the whole page
        assert bar["marker"]["color"] == by_customer[bar["name"]], bar["name"]


def test_state_counts_and_procurement_cards_say_what_they_count(admin: TestClient) -> None:
    overview = admin.get("/").text
    states = charts(overview)["chart-states"]["data"][0]
    counts = dict(zip(states["x"], states["y"], strict=True))
    assert counts["ordered"] == 10 and counts["cancelled"] == 4  # PO units, not server rows
    assert re.search(r'data-state="ordered"><a href="/procurement#orders">10<', overview)
    margin = charts(overview)["chart-revenue"]
    low, _ = margin["layout"]["yaxis2"]["range"]
    assert all(y is None or y >= low for y in margin["data"][2]["y"])  # nothing clipped
    cards = words(admin.get("/procurement").text)
    assert "Ordered (servers) 72 CNY 130.0 M" in cards
    assert "Cancelled (servers) 4 CNY 4.6 M" in cards


def test_simulation_figures_have_units(admin: TestClient) -> None:
    page = admin.get("/simulation").text
    assert "avg JCT 5.74 h" in words(page) and "e+" not in words(page)
    (run,) = [s for s in charts(page).values() if "cloud pool" in s["layout"]["title"]["text"]]
    assert run["layout"]["xaxis"]["title"]["text"] == "time since the first arrival (days)"
    assert max(run["data"][0]["x"]) < 81


def test_economics_monte_carlo_follows_the_form(admin: TestClient) -> None:
    page = words(admin.get("/economics/results", params={"occupancy": "0.55"}).text)
    assert "occupancy (steady level) triangular(0.15, 0.55, 0.75)" in page
    assert "Assumes occupancy 55% from month 3" in page
    flat = {"mc_occ_below": "0", "mc_occ_above": "0", "mc_dec_below": "0", "mc_dec_above": "0",
            "mc_shortfall": "none", "mc_bad_debt": "none", "mc_shock_probability": "0"}  # fmt: skip
    text = admin.get("/economics/results", params={"occupancy": "0.9", **flat}).text
    npv = re.search(r'data-figure="npv">([^<]+)<', text)
    band = re.search(r'data-figure="npv-fan">([^<]+)<', text)
    assert npv and band and band.group(1).split(" / ") == [npv.group(1)] * 3
    bad = admin.get("/economics/results", params={"mc_bad_debt": "beta(1, 2)"}).text
    assert 'id="econ-error"' in bad and "mc_bad_debt" in bad


def test_empty_charts_become_sentences(portal: TestClient) -> None:
    billing = portal.get("/billing").text  # Zhipu Research owes nothing
    assert 'id="chart-aging-empty"' in billing and "No open invoices" in billing


def test_invoice_page_has_every_line_payments_and_credit_notes(admin: TestClient) -> None:
    overview = admin.get("/").text
    link = re.search(
        r'data-figure="sla-credits"><a href="(/invoices/[^"#]+)#line-(\d+)">', overview
    )
    assert link is not None
    page = admin.get(link.group(1)).text
    row = re.search(rf'<tr id="line-{link.group(2)}" data-kind="sla_credit" class="sla-credit">(.*?)</tr>', page, re.S)  # fmt: skip
    assert row is not None and "-950.00" in row.group(1) and "SLA credit" in row.group(1)
    number = link.group(1).rsplit("/", 1)[1]
    invoice = services(admin).money.ledger.get_invoice(number)
    assert page.count('<tr id="line-') == len(invoice.lines) == 4
    assert 'id="invoice-payments"' in page and 'id="no-credit-notes"' in page
    note = services(admin).money.ledger.credit_note(number, "goodwill", {1: Decimal("100.00")})
    page = admin.get(link.group(1)).text
    assert f'data-credit-note="{note.number}"' in page
    back = admin.get(f"/invoices/{note.number}").text
    assert f'Credits invoice <a href="/invoices/{number}">' in back
    assert admin.get("/billing").text.count(f'href="/invoices/{note.number}"') == 1
    assert admin.get("/invoices/INV-NOPE").status_code == 404


def test_customer_usage_and_server_downtime(admin: TestClient) -> None:
    customer = admin.get("/customers/zhipu").text
    assert 'href="/customers/zhipu/usage"' in customer
    usage = admin.get("/customers/zhipu/usage").text
    records = services(admin).money.metering.list_usage(customer="zhipu", limit=500).items
    hours = sum(float(r.gpu_seconds) for r in records) / 3600
    rows = re.findall(r'<tr data-day="[^"]+">.*?<td class="num">([\d,.]+)</td></tr>', usage)
    assert rows and sum(float(x.replace(",", "")) for x in rows) == pytest.approx(hours, abs=1)
    assert set(charts(usage)["chart-usage"]["data"][0]) >= {"x", "y", "name"}
    server = admin.get("/fleet/H8A001").text
    assert re.search(r'<tr data-state="failed"><td>failed</td><td>2025-09-30 16:48</td><td>still down', server)  # fmt: skip
    assert re.search(r'href="/invoices/INV-[\d-]+#line-2"', server)
    assert "No downtime" in admin.get("/fleet/H8C001").text


def test_a_customer_drills_into_its_own_rows_only(portal: TestClient) -> None:
    svc = services(portal)
    mine = svc.money.ledger.list_invoices(customer="zhipu", limit=1).items[0].number
    other = svc.money.ledger.list_invoices(customer="hefei", limit=1).items[0].number
    assert portal.get(f"/invoices/{mine}").status_code == 200
    assert portal.get(f"/invoices/{other}").status_code == 404
    assert portal.get("/customers/zhipu/usage").status_code == 200
    assert portal.get("/customers/hefei/usage").status_code == 404
    assert 'href="/fleet/' not in portal.get("/customers/zhipu").text  # no operator links


def test_a_new_center_shows_sentences_not_empty_axes(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    svc = build_services(engine, DemoClock())
    svc.money.tenancy.create_user("admin", "admin")
    token = svc.money.tenancy.issue_token("admin", 30).secret
    engine.dispose()
    app = create_app(load_settings(database_url=f"sqlite:///{path}"), clock=DemoClock())
    app.state.simulation_dir = tmp_path / "none"
    with TestClient(app) as client:
        client.cookies.set("suanli_session", token)
        for page, empty in (
            ("/", ("chart-occupancy", "chart-revenue", "chart-utilization")),
            ("/procurement", ("chart-po-units", "chart-po-p")),
            ("/contracts", ("chart-gantt", "chart-customer-revenue")),
            ("/billing", ("chart-aging", "chart-flow")),
        ):
            r = client.get(page)
            assert r.status_code == 200, page
            drawn = charts(r.text)
            for cid in empty:
                assert cid not in drawn and f'id="{cid}-empty"' in r.text, (page, cid)
            for spec in drawn.values():  # what is drawn has something to draw
                assert any(v is not None for t in spec["data"] for v in t.get("y", [])), page
