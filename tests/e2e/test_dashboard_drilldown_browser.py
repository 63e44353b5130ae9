"""Browser paths of issue 16's drill-down on the seeded demo: overview → invoice → the line
with the SLA credit, and overview → customer → usage by day and product."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from dashboard_helpers import Console, shot

pytestmark = pytest.mark.browser


def drawn(page: Any) -> None:
    page.wait_for_load_state("networkidle")
    charts = page.locator("figure.chart")
    for i in range(charts.count()):
        charts.nth(i).locator(".main-svg").first.wait_for(state="attached", timeout=10_000)


def test_overview_to_invoice_to_the_sla_credit_line(
    page: Any, console: Console, base_url: str, api: httpx.Client
) -> None:
    page.goto(base_url + "/")
    drawn(page)
    page.locator('[data-figure="sla-credits"] a').click()
    page.wait_for_url("**/invoices/*#line-*")
    number = page.url.split("/invoices/")[1].split("#")[0]
    line = page.url.rsplit("#line-", 1)[1]
    row = page.locator(f"tr#line-{line}")
    assert row.get_attribute("data-kind") == "sla_credit"
    assert row.is_visible() and "SLA credit" in row.inner_text()
    invoice = api.get(f"/invoices/{number}").json()
    credit = [ln for ln in invoice["lines"] if ln["kind"] == "sla_credit"]
    assert [str(ln["line_no"]) for ln in credit] == [line]
    assert f"{float(credit[0]['net']):,.2f}" in row.locator('[data-col="net"]').inner_text()
    assert page.locator("#invoice-lines tbody tr").count() == len(invoice["lines"])
    assert page.locator("#invoice-payments tbody tr").count() >= 1  # paid by bank transfer
    assert page.locator("#no-credit-notes").is_visible()
    shot(page, "invoice-sla-credit")
    page.get_by_role("link", name=f"← {invoice['customer']}").click()
    page.wait_for_url(f"**/customers/{invoice['customer']}")
    assert console.errors == []


def test_overview_to_customer_to_usage(
    page: Any, console: Console, base_url: str, api: httpx.Client
) -> None:
    page.goto(base_url + "/")
    drawn(page)
    page.locator('li[data-kind="contract_expiring"] a', has_text="zhipu").click()
    page.wait_for_url("**/customers/zhipu")
    drawn(page)
    page.locator('[data-figure="usage"] a').click()
    page.wait_for_url("**/customers/zhipu/usage")
    drawn(page)
    page.locator("#chart-usage[data-ready] .main-svg").first.wait_for(state="attached")
    records = api.get("/usage", params={"customer": "zhipu", "limit": 500}).json()
    days = {r["started_at"][:10] for r in records["items"]}
    assert page.locator("#usage-by-day tbody tr").count() == len(days)
    header = page.locator("#usage-by-day thead").inner_text()
    assert "HGX-H800-8 standard" in header and "HGX-H800-8 spot" in header
    assert page.locator('[data-figure="usage-records"]').inner_text() == str(records["total"])
    shot(page, "customer-usage")
    assert console.errors == []


def test_economics_monte_carlo_draws_are_shown_and_edited(
    page: Any, console: Console, base_url: str
) -> None:
    page.goto(base_url + "/economics")
    drawn(page)
    draws = page.locator("#mc-draws-table")
    assert "triangular(0.4, 0.8, 0.95)" in draws.inner_text()  # around the form's 0.8
    page.get_by_label("Occupancy (0–1)").fill("0.6")
    page.get_by_label("Bad debt (share of revenue)").fill("uniform(0, 0.1)")
    page.get_by_role("button", name="Recompute").click()
    page.wait_for_function(
        "() => document.querySelector('#mc-draws-table').textContent.includes('uniform(0, 0.1)')"
    )
    text = page.locator("#mc-draws-table").inner_text()
    assert "triangular(0.2, 0.6, 0.8)" in text  # re-centred on the new occupancy
    assert "occupancy 60%" in page.locator('[data-assumes="npv"]').inner_text()
    assert page.url.endswith("/economics")
    assert console.errors == []
