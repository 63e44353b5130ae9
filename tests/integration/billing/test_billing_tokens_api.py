"""The inference product over the API on both engines: the token price list (roles), token records
through the usage batch endpoint, a customer's token usage (own only), by day, and the invoice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.settings import load_settings

V1 = "/api/v1"
PRICE = {"model": "deepseek-v3", "valid_from": "2024-01-01", "input_miss_per_m": "2",
         "input_hit_per_m": "0.5", "output_per_m": "8", "night_discount": "0.5"}  # fmt: skip


@pytest.fixture
def api(world, db_url: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:  # type: ignore[no-untyped-def]
    t = world.svc.money.tenancy
    headers = {"admin": {"Authorization": f"Bearer {t.bootstrap().secret}"}}
    for code in ("acme", "beta"):
        t.create_customer(code, code.title())
    for name, role, customer in (("olga", "operator", None), ("fin", "finance", None),
                                 ("ann", "customer", "acme")):  # fmt: skip
        t.create_user(name, role, customer)
        headers[name] = {"Authorization": f"Bearer {t.issue_token(name).secret}"}
    with TestClient(create_app(load_settings(database_url=db_url), clock=world.clock)) as client:
        yield client, headers


def ok(resp, status: int = 200):  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    return resp.json()


def rec(event_id: str, customer: str, started: str, **kw: object) -> dict[str, object]:
    return {"event_id": event_id, "customer": customer, "model": "deepseek-v3",
            "started_at": started, "ended_at": started, "input_tokens": 1_234_567,
            "cache_hit_tokens": 234_567, "output_tokens": 345_678, **kw}  # fmt: skip


def test_token_prices_usage_and_invoice_over_the_api(api) -> None:  # type: ignore[no-untyped-def]
    client, h = api
    resp = client.put(f"{V1}/inference-prices", json=PRICE, headers=h["ann"])
    assert resp.status_code == 403
    bad = client.put(
        f"{V1}/inference-prices", json=PRICE | {"model": "no spaces"}, headers=h["fin"]
    )
    assert bad.status_code == 422 and bad.json()["code"] == "tokens.invalid_model"
    price = ok(client.put(f"{V1}/inference-prices", json=PRICE, headers=h["fin"]))
    assert price["output_per_m"] == "8" and price["vat_rate"] == "0.06"
    assert price["night_start"] == "00:30:00"
    assert len(ok(client.get(f"{V1}/inference-prices", headers=h["ann"]))["items"]) == 1

    night = dict(input_tokens="500000", cache_hit_tokens="100000", output_tokens="200001")
    batch = [rec("t1", "acme", "2024-04-02T02:00:00Z"), rec("t2", "acme", "2024-04-02T17:00:00Z", **night),
             rec("t3", "beta", "2024-04-03T02:00:00Z"), rec("t4", "acme", "2024-04-03T02:00:00Z", output_tokens=-1)]  # fmt: skip
    got = ok(client.post(f"{V1}/usage/batches", json={"records": batch}, headers=h["olga"]), 201)
    assert (got["accepted"], got["duplicates"]) == (3, 0)
    assert got["rejected"] == [{"row": 3, "event_id": "t4", "field": "output_tokens",
                                "reason": "output_tokens must be a whole number >= 0",
                                "code": "tokens.invalid_count"}]  # fmt: skip

    mine = ok(client.get(f"{V1}/usage/tokens", headers=h["ann"]))
    assert [i["event_id"] for i in mine["items"]] == ["t1", "t2"] and mine["total"] == 2
    assert client.get(f"{V1}/usage/tokens?customer=beta", headers=h["ann"]).status_code == 404
    daily = ok(client.get(f"{V1}/usage/tokens/daily", headers=h["olga"]))["items"]
    assert [(d["day"], d["requests"], d["output_tokens"]) for d in daily] == [
        ("2024-04-02", 2, 545_679), ("2024-04-03", 1, 345_678),
    ]  # fmt: skip

    run = ok(client.post(f"{V1}/invoice-runs", json={"period": "2024-04", "issue_date": "2024-05-01"},
                         headers=h["fin"]), 201)  # fmt: skip
    assert len(run["created"]) == 2
    invoices = ok(client.get(f"{V1}/invoices?customer=acme", headers=h["ann"]))["items"]
    assert [(i["net"], i["tax"], i["gross"]) for i in invoices] == [("6.12", "0.37", "6.49")]
    revenue = ok(client.get(f"{V1}/reports/revenue?period=2024-04", headers=h["fin"]))
    assert revenue["by_kind"] == {"tokens": "11.01"}  # acme 6.12 + beta 2.00 + 0.12 + 2.77


def test_customer_portal_shows_token_usage_by_day(api, world) -> None:  # type: ignore[no-untyped-def]
    client, h = api
    ok(client.put(f"{V1}/inference-prices", json=PRICE, headers=h["fin"]))
    batch = [rec("t1", "acme", "2024-03-20T02:00:00Z"), rec("t2", "acme", "2024-03-21T02:00:00Z"),
             rec("t3", "acme", "2024-03-21T03:00:00Z"), rec("t4", "beta", "2024-03-21T02:00:00Z"),
             rec("t5", "acme", "2024-01-02T02:00:00Z")]  # fmt: skip
    ok(client.post(f"{V1}/usage/batches", json={"records": batch}, headers=h["olga"]), 201)
    secret = h["ann"]["Authorization"].removeprefix("Bearer ")
    r = client.post(
        "/login", data={"token": secret, "next": "/customers/acme"}, follow_redirects=False
    )
    assert r.status_code == 303
    page = client.get("/customers/acme").text
    assert "Token usage by day" in page and 'id="chart-customer-tokens"' in page
    table = page.split('id="customer-tokens"')[1].split("</table>")[0]
    assert table.count("<tr><td>") == 2  # two days in the last 31 (the January day is older)
    assert '2024-03-21</td><td>deepseek-v3</td><td class="num">2</td>' in table
    assert '<td class="num">2,469,134</td>' in table  # 2 × 1,234,567 input tokens
    assert client.get("/customers/beta").status_code == 404
