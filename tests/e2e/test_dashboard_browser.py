"""Browser tests of the dashboard on the seeded demo center: every page renders its charts
without console errors at 1280×800 and on a phone viewport, key figures equal the API's, the
fleet filter and the economics what-if form update the page in place (htmx)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dashboard_helpers import Console, page_name, shot, signed_in

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/fleet",
    "/fleet/H8A001",
    "/procurement",
    "/economics",
    "/simulation",
    "/contracts",
    "/billing",
    "/customers/zhipu",
    "/customers/zhipu/usage",
    "/login",
]
NOT_INSTALLED = {"ordered", "cancelled", "retired"}


def servers(api: httpx.Client) -> list[dict[str, Any]]:
    body = api.get("/servers", params={"limit": 500}).json()
    assert body["total"] == len(body["items"])
    return list(body["items"])


def visit(page: Any, url: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    charts = page.locator("figure.chart")
    for i in range(charts.count()):  # every chart drawn by plotly.js
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=10_000)


def figure(page: Any, key: str) -> str:
    return str(page.locator(f'[data-figure="{key}"]').inner_text()).strip()


@pytest.mark.parametrize("viewport", [(1280, 800), (390, 844)], ids=["desktop", "mobile"])
def test_every_page_renders_without_console_errors(
    browser: Any, base_url: str, tokens: dict[str, str], viewport: tuple[int, int]
) -> None:
    context = signed_in(browser, base_url, tokens["admin"], viewport)
    page = context.new_page()
    console = Console(page)
    try:
        for path in PAGES:
            visit(page, base_url + path)
            assert page.url == base_url + path  # signed in: no redirect to the login page
            assert page.locator("h1").count() == 1, path
            assert page.locator("nav[aria-label='Main'] a[aria-current='page']").count() <= 1
            controls = page.locator("main input:not([type=hidden]), main select")
            for field in controls.all():  # every control labelled
                assert field.evaluate("e => e.labels.length") >= 1, path
            # the page fits the viewport's width (tables scroll inside their own box)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport[0] + 1, (path, width)
            shot(page, f"{page_name(path)}-{viewport[0]}x{viewport[1]}")
        assert console.errors == []
    finally:
        context.close()


def test_overview_figures_match_the_api(
    page: Any, console: Console, base_url: str, api: httpx.Client
) -> None:
    visit(page, base_url + "/")
    items = servers(api)
    installed = [s for s in items if s["state"] not in NOT_INSTALLED]
    assert int(figure(page, "servers")) == len(installed)
    assert int(figure(page, "gpus")) == sum(s["gpu_count"] for s in installed)
    for state in ("burn_in", "available", "leased", "cloud_pool", "failed", "maintenance"):
        total = api.get("/servers", params={"state": state, "limit": 1}).json()["total"]
        assert page.locator(f'td[data-state="{state}"]').inner_text() == str(total), state
    summary = api.get("/reports/procurement/summary").json()
    outstanding = sum(o["outstanding"]["units"] for o in summary["orders"])
    assert int(figure(page, "on-order")) == outstanding
    overdue = api.get("/reports/procurement/overdue", params={"as_of": "2025-10-31"}).json()[
        "items"
    ]
    alerts = page.locator('li[data-kind="overdue_delivery"]')
    assert alerts.count() == len(overdue) > 0
    assert overdue[0]["number"] in alerts.first.inner_text()
    sold = sum(1 for s in items if s["state"] in ("leased", "cloud_pool"))
    sellable = sum(
        1
        for s in items
        if s["state"] in ("available", "leased", "cloud_pool", "maintenance", "failed", "repaired")
    )
    assert figure(page, "occupancy") == f"{sold / sellable * 100:.0f} %"
    assert console.errors == []


def test_fleet_filter_and_server_page(
    page: Any, console: Console, base_url: str, api: httpx.Client
) -> None:
    visit(page, base_url + "/fleet")
    leased = api.get("/servers", params={"state": "leased", "limit": 500}).json()
    page.get_by_label("State").select_option("leased")
    page.wait_for_url("**/fleet?state=leased*")
    page.wait_for_function(
        f"document.getElementById('fleet-total').textContent === '{leased['total']}'"
    )
    rows = page.locator("#servers tbody tr")
    assert rows.count() == leased["total"]
    serial = leased["items"][0]["serial"]
    page.get_by_role("link", name=serial, exact=True).click()
    page.wait_for_url(f"**/fleet/{serial}")
    history = api.get(f"/servers/{serial}/transitions", params={"limit": 500}).json()
    assert page.locator("#history tbody tr").count() == history["total"]
    assert page.locator('[data-figure="state"]').inner_text() == "leased"
    assert console.errors == []


def test_procurement_matches_the_api(
    page: Any, console: Console, base_url: str, api: httpx.Client
) -> None:
    visit(page, base_url + "/procurement")
    for order in api.get("/reports/procurement/summary").json()["orders"]:
        row = page.locator(f'tr[data-order="{order["number"]}"]')
        assert row.locator('[data-col="delivered"]').inner_text() == str(
            order["delivered"]["units"]
        )
        assert row.locator('[data-col="outstanding"]').inner_text() == str(
            order["outstanding"]["units"]
        )
    overdue = api.get("/reports/procurement/overdue", params={"as_of": "2025-10-31"}).json()[
        "items"
    ]
    assert page.locator("#overdue-table tbody tr").count() == len(overdue)
    assert console.errors == []


def _mega(value: float) -> str:
    return f"{value / 1e6:,.1f} M"


def test_economics_form_updates_the_charts(
    page: Any, console: Console, base_url: str, api: httpx.Client
) -> None:
    visit(page, base_url + "/economics")
    scenario = api.get("/economics/scenarios/h800-bare-metal-2p1m").json()
    base = api.post("/economics/evaluate", json=scenario).json()
    assert figure(page, "npv") == _mega(base["npv"])
    before = page.locator("#chart-cash script").inner_text()
    page.get_by_label("Rent per server-month").fill("80000")
    page.get_by_label("Occupancy (0–1)").fill("0.7")
    page.get_by_role("button", name="Recompute").click()
    scenario["form"]["rent_per_server_month"] = 80000
    scenario["form"]["occupancy"] = 0.7
    changed = api.post("/economics/evaluate", json=scenario).json()
    page.wait_for_function(
        "t => document.querySelector('[data-figure=\"npv\"]').textContent.trim() === t",
        arg=_mega(changed["npv"]),
    )
    page.locator("#chart-cash[data-ready] .main-svg").first.wait_for(state="attached")
    assert page.locator("#chart-cash script").inner_text() != before
    assert page.url.endswith("/economics")  # swapped in place, not a page load
    # a bad input is reported next to the form, naming the field
    page.get_by_label("Occupancy (0–1)").fill("1.5")
    page.get_by_role("button", name="Recompute").click()
    page.locator("#econ-error").wait_for()
    assert "occupancy" in page.locator("#econ-error").inner_text()
    shot(page, "economics-after-submit")
    assert console.errors == []


def test_simulation_page_draws_result_files(page: Any, console: Console, base_url: str) -> None:
    visit(page, base_url + "/simulation")
    # the demo's cloud-pool run, a job run and a placement summary
    assert page.locator("#sim-files tbody tr").count() == 3
    # placement: allocation and fragmentation; each job run: allocated GPUs over time
    assert page.locator("figure.chart[data-ready]").count() == 4
    assert "avg JCT 1.50 h" in page.locator("#sim-files").inner_text()  # units, no e-notation
    page.get_by_label("Policy").select_option("las")
    page.get_by_label("Jobs").fill("400")
    page.get_by_role("button", name="Run").click()
    page.locator("#sim-run figure.chart[data-ready] .main-svg").first.wait_for(state="attached")
    assert "jobs 400" in page.locator("#sim-run-figures").inner_text()
    assert page.url.endswith("/simulation")  # swapped in place
    assert console.errors == []


def test_login_form_and_customer_isolation(
    browser: Any, base_url: str, tokens: dict[str, str]
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(base_url + "/billing")
        page.wait_for_url("**/login?next=%2Fbilling")
        page.get_by_label("API token").fill(tokens["zhipu-portal"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/billing")
        console = Console(page)
        customers = {
            a.inner_text() for a in page.locator("#invoices tbody td:nth-child(2) a").all()
        }
        assert customers == {"zhipu"}
        nav = page.locator("nav[aria-label='Main'] a").all_inner_texts()
        assert nav == ["Contracts", "Billing"]
        shot(page, "customer-billing")
        page.goto(base_url + "/fleet")  # operator pages send a customer to its own page
        page.wait_for_url("**/customers/zhipu")
        assert "Zhipu Research" in page.locator("h1").inner_text()
        assert console.errors == []
        response = page.goto(base_url + "/customers/hefei")  # another customer's page
        assert response is not None and response.status == 404
        assert "Hefei" not in page.locator("main").inner_text()
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url("**/login")
    finally:
        context.close()


def test_contracts_and_billing_match_the_api(
    page: Any, console: Console, base_url: str, api: httpx.Client
) -> None:
    visit(page, base_url + "/contracts")
    contracts = api.get("/contracts", params={"limit": 500}).json()
    assert page.locator("#contracts-table tbody tr").count() == contracts["total"]
    visit(page, base_url + "/billing")
    aging = api.get("/reports/aging", params={"as_of": "2025-10-31"}).json()
    rows = aging["items"] if isinstance(aging, dict) else aging
    for row in rows:
        for bucket, amount in row["buckets"].items():
            cell = page.locator(f'tr[data-customer="{row["customer"]}"] td[data-bucket="{bucket}"]')
            assert cell.inner_text().replace(",", "") == f"{float(amount):.2f}"
    invoices = api.get("/invoices", params={"limit": 500}).json()
    assert page.locator("#invoices tbody tr").count() == invoices["total"]
    assert console.errors == []
