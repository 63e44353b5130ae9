"""The leasing and billing API on both engines: tokens and roles, tenant isolation (another
tenant's objects answer 404 on every endpoint), idempotency keys, pagination and filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.settings import load_settings

V1 = "/api/v1"
H800 = "HGX-H800-8"


@pytest.fixture
def api(world, db_url: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:  # type: ignore[no-untyped-def]
    """A client plus headers for admin, operator, finance and two customer users."""
    world.servers(4)
    t = world.svc.money.tenancy
    headers = {"admin": {"Authorization": f"Bearer {t.bootstrap().secret}"}}
    for code in ("acme", "beta"):
        t.create_customer(code, code.title())
    for name, role, customer in (("olga", "operator", None), ("fin", "finance", None),
                                 ("ann", "customer", "acme"), ("bea", "customer", "beta")):  # fmt: skip
        t.create_user(name, role, customer)
        headers[name] = {"Authorization": f"Bearer {t.issue_token(name).secret}"}
    with TestClient(create_app(load_settings(database_url=db_url), clock=world.clock)) as client:
        yield client, headers


def ok(resp, status: int = 200):  # type: ignore[no-untyped-def]
    assert resp.status_code == status, resp.text
    return resp.json()


def lease_body(customer: str, count: int = 1) -> dict:  # type: ignore[type-arg]
    return {"customer": customer, "sku": H800, "count": count, "monthly_rent": "70000.00",
            "start": "2024-04-01", "term_months": 12}  # fmt: skip


def test_auth_roles_and_tokens(api) -> None:  # type: ignore[no-untyped-def]
    client, h = api
    assert client.get(f"{V1}/contracts").json()["code"] == "auth.missing_token"
    assert (
        client.get(f"{V1}/contracts", headers={"Authorization": "Bearer sl_nope"}).status_code
        == 401
    )
    assert ok(client.get(f"{V1}/me", headers=h["ann"]))["customer_code"] == "acme"
    resp = client.post(f"{V1}/contracts/leases", json=lease_body("acme"), headers=h["ann"])
    assert resp.status_code == 403 and resp.json()["code"] == "auth.forbidden"
    assert (
        client.post(f"{V1}/invoice-runs", json={"period": "2024-04"}, headers=h["olga"]).status_code
        == 403
    )
    issued = ok(client.post(f"{V1}/users/ann/tokens", json={"days": 1}, headers=h["admin"]), 201)
    assert issued["secret"].startswith("sl_") and issued["token"]["prefix"] == issued["secret"][:10]
    listed = ok(client.get(f"{V1}/tokens", params={"user": "ann"}, headers=h["admin"]))["items"]
    assert all("secret" not in tok for tok in listed)  # shown once
    ok(client.delete(f"{V1}/tokens/{issued['token']['id']}", headers=h["admin"]))
    assert (
        client.get(f"{V1}/me", headers={"Authorization": f"Bearer {issued['secret']}"}).status_code
        == 401
    )


def test_tenant_isolation_everywhere(api, world) -> None:  # type: ignore[no-untyped-def]
    client, h = api
    ok(client.put(f"{V1}/prices", json={"sku": H800, "priority_class": "standard", "gpu_hour_price": "15", "valid_from": "2024-01-01"}, headers=h["olga"]))  # fmt: skip
    acme = ok(
        client.post(f"{V1}/contracts/leases", json=lease_body("acme"), headers=h["olga"]), 201
    )
    beta = ok(
        client.post(f"{V1}/contracts/leases", json=lease_body("beta"), headers=h["olga"]), 201
    )
    rec = {"customer": "beta", "sku": H800, "priority_class": "standard", "job_id": "b1",
           "started_at": "2024-04-02T00:00:00Z", "ended_at": "2024-04-02T01:00:00Z", "gpu_seconds": "3600"}  # fmt: skip
    ok(client.post(f"{V1}/usage/batches", json={"records": [dict(rec, event_id="b-1"), dict(rec, customer="acme", event_id="a-1")]}, headers=h["olga"]), 201)  # fmt: skip
    world.clock.set(datetime(2024, 4, 10, tzinfo=UTC))
    ok(client.post(f"{V1}/leasing/servers/{beta['servers'][0]}/failure", json={"reason": "x"}, headers=h["olga"]), 201)  # fmt: skip
    world.clock.set(datetime(2024, 5, 1, tzinfo=UTC))
    run = ok(client.post(f"{V1}/invoice-runs", json={"period": "2024-04"}, headers=h["fin"]), 201)
    assert len(run["created"]) == 2
    ok(client.post(f"{V1}/payments", json={"customer": "beta", "amount": "100.00", "received_on": "2024-05-02"}, headers=h["fin"]), 201)  # fmt: skip
    beta_invoice = ok(client.get(f"{V1}/invoices", params={"customer": "beta"}, headers=h["fin"]))["items"][0]["number"]  # fmt: skip

    # ann (acme) sees her own objects ...
    assert (
        ok(client.get(f"{V1}/contracts/{acme['number']}", headers=h["ann"]))["customer"] == "acme"
    )
    for path in ("contracts", "invoices", "usage", "payments", "sla-events", "customers"):
        items = ok(client.get(f"{V1}/{path}", headers=h["ann"]))["items"]
        assert all(i.get("customer", i.get("code")) == "acme" for i in items), path
    assert ok(client.get(f"{V1}/usage", headers=h["ann"]))["total"] == 1
    assert ok(client.get(f"{V1}/sla-events", headers=h["ann"]))["total"] == 0
    assert [r["customer"] for r in ok(client.get(f"{V1}/reports/aging", params={"as_of": "2024-06-01"}, headers=h["ann"]))["items"]] == ["acme"]  # fmt: skip
    # ... and every one of beta's answers 404, exactly like an object that does not exist
    for path, params in (
        (f"contracts/{beta['number']}", None), (f"invoices/{beta_invoice}", None), ("customers/beta", None),
        ("contracts", {"customer": "beta"}), ("invoices", {"customer": "beta"}), ("usage", {"customer": "beta"}),
        ("payments", {"customer": "beta"}), ("sla-events", {"customer": "beta"}),
        ("reports/aging", {"as_of": "2024-06-01", "customer": "beta"}),
    ):  # fmt: skip
        resp = client.get(f"{V1}/{path}", params=params, headers=h["ann"])
        assert resp.status_code == 404, (path, resp.text)
        missing = client.get(f"{V1}/{path.replace('beta', 'zeta').replace(beta['number'], 'L-999999').replace(beta_invoice, 'INV-0')}",
                             params={k: v.replace("beta", "zeta") for k, v in (params or {}).items()}, headers=h["ann"])  # fmt: skip
        assert missing.status_code == 404 and missing.json()["code"] == resp.json()["code"]
    # staff see both tenants
    assert ok(client.get(f"{V1}/contracts", headers=h["fin"]))["total"] == 2


def test_idempotency_keys_and_pagination(api) -> None:  # type: ignore[no-untyped-def]
    client, h = api
    key = {"Idempotency-Key": "lease-1", **h["olga"]}
    first = client.post(f"{V1}/contracts/leases", json=lease_body("acme", 2), headers=key)
    again = client.post(f"{V1}/contracts/leases", json=lease_body("acme", 2), headers=key)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (
        ok(client.get(f"{V1}/contracts", headers=h["olga"]))["total"] == 1
    )  # one contract, not two
    reused = client.post(f"{V1}/contracts/leases", json=lease_body("beta", 1), headers=key)
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency.key_reused"
    # a failed attempt releases its key: the retry runs
    too_many = {"Idempotency-Key": "lease-2", **h["olga"]}
    assert client.post(f"{V1}/contracts/leases", json=lease_body("beta", 5), headers=too_many).json()["code"] == "lease.capacity_unavailable"  # fmt: skip
    ok(client.post(f"{V1}/contracts/leases", json=lease_body("beta", 2), headers=too_many), 201)
    page = ok(client.get(f"{V1}/contracts", params={"limit": 1, "offset": 1}, headers=h["olga"]))
    assert page["total"] == 2 and [c["number"] for c in page["items"]] == ["L-000002"]
    assert (
        ok(client.get(f"{V1}/contracts", params={"customer": "acme"}, headers=h["olga"]))["total"]
        == 1
    )
    assert client.get(f"{V1}/contracts", params={"limit": 0}, headers=h["olga"]).status_code == 422
    batch = {"records": [{"event_id": "x", "customer": "ghost", "sku": H800, "gpu_seconds": "1",
                          "started_at": "2024-04-02T00:00:00Z", "ended_at": "2024-04-02T01:00:00Z"}]}  # fmt: skip
    body = ok(
        client.post(
            f"{V1}/usage/batches", json=batch, headers={"Idempotency-Key": "u1", **h["olga"]}
        ),
        201,
    )
    assert body["rejected"] == [
        {"row": 0, "event_id": "x", "field": "customer", "reason": "unknown customer 'ghost'",
         "code": "usage.invalid_record"}
    ]  # fmt: skip
    schema = client.get("/openapi.json").json()
    assert "examples" in schema["components"]["schemas"]["LeaseIn"]
    assert any(
        p.get("name") == "Idempotency-Key"
        for p in schema["paths"]["/api/v1/usage/batches"]["post"]["parameters"]
    )


def test_supplementary_run_and_effective_dates_over_http(api, world) -> None:  # type: ignore[no-untyped-def]
    """Issue 12: ``"supplementary": true`` bills a lease signed after its month was invoiced;
    ``"at"`` dates a transition; a bad one is a 422/409 envelope, never a 5xx."""
    client, h = api
    ok(client.post(f"{V1}/contracts/leases", json=lease_body("acme"), headers=h["admin"]), 201)
    world.clock.set(datetime(2024, 5, 2, tzinfo=UTC))
    run = {"period": "2024-04", "issue_date": "2024-05-01"}
    assert (
        len(ok(client.post(f"{V1}/invoice-runs", json=run, headers=h["fin"]), 201)["created"]) == 1
    )
    late = dict(lease_body("acme"), start="2024-04-16")
    (sn,) = ok(client.post(f"{V1}/contracts/leases", json=late, headers=h["admin"]), 201)["servers"]
    again = ok(client.post(f"{V1}/invoice-runs", json=run, headers=h["fin"]), 201)
    assert again["created"] == [] and again["skipped"] == ["acme"]
    sup = ok(client.post(f"{V1}/invoice-runs", json=dict(run, supplementary=True), headers=h["fin"]), 201)  # fmt: skip
    (number,) = sup["created"]
    got = ok(client.get(f"{V1}/invoices/{number}", headers=h["ann"]))
    assert (got["period"], got["net"]) == ("2024-04", "35000.00")  # 15 of 30 days at 70,000
    listed = ok(client.get(f"{V1}/invoices", params={"period": "2024-04"}, headers=h["fin"]))
    assert listed["total"] == 2
    step = {"to_state": "failed", "reason": "PSU", "at": "2024-04-20T00:00:00+00:00"}
    moved = ok(client.post(f"{V1}/servers/{sn}/transitions", json=step, headers=h["olga"]), 201)
    assert moved["at"].startswith("2024-04-20T00:00:00") and moved["recorded_at"].startswith(
        "2024-05-02"
    )
    for at, status in (("0001-01-01T00:00:00+01:00", 422), ("9999-12-31T23:59:59-01:00", 422),
                       ("2024-04-19", 409), ("j١", 422)):  # fmt: skip
        resp = client.post(f"{V1}/servers/{sn}/transitions", json=dict(step, to_state="repaired", at=at), headers=h["olga"])  # fmt: skip
        assert resp.status_code == status, resp.text


def test_release_takes_its_effective_date_over_http(api, world) -> None:  # type: ignore[no-untyped-def]
    client, h = api
    body = dict(lease_body("acme"), term_months=1)
    ok(client.post(f"{V1}/contracts/leases", json=body, headers=h["admin"]), 201)
    world.clock.set(datetime(2024, 5, 2, tzinfo=UTC))
    release = f"{V1}/leasing/release"
    assert ok(client.post(release, json={"at": "2024-04-30"}, headers=h["olga"]))["released"] == 0
    assert ok(client.post(release, json={"at": "2024-05-01"}, headers=h["olga"]))["released"] == 1
    resp = client.post(release, json={"at": "2024-05-03"}, headers=h["olga"])
    assert resp.status_code == 422 and resp.json()["code"] == "input.date_out_of_range"
    assert client.post(release, headers=h["fin"]).status_code == 403
