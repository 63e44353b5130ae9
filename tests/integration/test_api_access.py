"""Access to the fleet, procurement and economics API on SQLite and PostgreSQL: every route needs
a token (401), staff roles (403), tenant isolation for customer users (another tenant's server,
any purchase order or cabinet answers 404 exactly like a missing one), and the hardening found
by schemathesis (bounded pagination, CSV line endings)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.clock import SimClock
from suanli.core.errors import ValidationError
from suanli.economics.library import load_bundled
from suanli.services.billing.leasing import LeaseSpec
from suanli.settings import load_settings

V1 = "/api/v1"
H800 = "HGX-H800-8"
GUARDED_TAGS = {"fleet", "procurement", "economics"}


@dataclass
class Site:
    client: TestClient
    h: dict[str, dict[str, str]]  # headers by user: olga (operator), fin, ann (acme), bea (beta)

    def get(self, path: str, who: str, **params: Any) -> httpx.Response:
        return self.client.get(f"{V1}/{path}", params=params, headers=self.h[who])


def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


@pytest.fixture
def site(db_url: str, clock: SimClock, bearer: Any) -> Iterator[Site]:
    """A rack with five servers (one bought through a PO); acme had SN0 (a lease that ended) and
    holds SN2; beta holds SN0 now and SN1; SN3 and SN4 were never leased."""
    app = create_app(load_settings(database_url=db_url), clock=clock)
    tenancy = app.state.services.money.tenancy
    for code in ("acme", "beta"):
        tenancy.create_customer(code, code.title())
    h = {
        "olga": bearer(app, "olga", "operator"),
        "fin": bearer(app, "fin", "finance"),
        "ann": bearer(app, "ann", "customer", "acme"),
        "bea": bearer(app, "bea", "customer", "beta"),
    }
    with TestClient(app) as client:
        op = h["olga"]
        _ok(client.post(f"{V1}/sites", json={"code": "BJ1", "name": "Beijing 1"}, headers=op), 201)
        cab = {"site": "BJ1", "code": "A01", "power_budget_kw": "100"}
        _ok(client.post(f"{V1}/cabinets", json=cab, headers=op), 201)
        _ok(client.post(f"{V1}/suppliers", json={"name": "New H3C"}, headers=op), 201)
        order = {"number": "PO-1", "supplier": "New H3C", "ordered_on": "2024-01-02",
                 "lines": [{"sku": H800, "quantity": 1, "unit_price": "2100000", "promised_on": "2024-02-01"}]}  # fmt: skip
        _ok(client.post(f"{V1}/purchase-orders", json=order, headers=op), 201)
        _ok(client.post(f"{V1}/purchase-orders/PO-1/deliveries", json={"serials": ["SN0"], "delivered_on": "2024-02-01"}, headers=op), 201)  # fmt: skip
        for n in range(1, 5):
            body = {"serial": f"SN{n}", "sku": H800, "state": "delivered", "purchase_price": "2000000"}  # fmt: skip
            _ok(client.post(f"{V1}/servers", json=body, headers=op), 201)
        for n in range(5):
            for to, extra in (("burn_in", {"cabinet": "BJ1/A01"}), ("available", {})):
                body = {"to_state": to, "reason": "setup", **extra}
                _ok(client.post(f"{V1}/servers/SN{n}/transitions", json=body, headers=op), 201)
        leasing = app.state.services.money.leasing
        _lease(leasing, "acme", ["SN0"], "2024-02-01", 2)  # ended 2024-04-01
        clock.set(clock.now().replace(day=2))
        assert leasing.release_due("ops") == 1
        _lease(leasing, "beta", ["SN0", "SN1"], "2024-04-02", 12)
        _lease(leasing, "acme", ["SN2"], "2024-04-02", 12)
        yield Site(client, h)


def _lease(leasing: Any, customer: str, serials: list[str], start: str, months: int) -> None:
    spec = LeaseSpec(customer, H800, "70000", date.fromisoformat(start), months,
                     serials=tuple(serials))  # fmt: skip
    leasing.create_lease(spec, "ops")


def _guarded_operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if set(op.get("tags", [])) & GUARDED_TAGS:
                yield method.upper(), path, re.sub(r"\{[^}]+\}", "X", path)


def test_every_fleet_procurement_and_economics_route_needs_a_token(site: Site) -> None:
    client = site.client
    schema = client.get("/openapi.json").json()
    ops = list(_guarded_operations(schema))
    assert len(ops) >= 30
    for method, path, url in ops:
        security = schema["paths"][path][method.lower()].get("security")
        assert security == [{"HTTPBearer": []}], (method, path)  # schemathesis sends the token
        resp = client.request(method, url, json={})
        assert resp.status_code == 401, (method, url, resp.text)
        assert resp.json()["code"] == "auth.missing_token"
        bad = client.request(method, url, json={}, headers={"Authorization": "Bearer sl_nope"})
        assert bad.status_code == 401, (method, url)
    # public: health, docs, schema and catalog
    for url in ("/healthz", "/docs", "/openapi.json", f"{V1}/catalog/gpus", f"{V1}/catalog/servers"):  # fmt: skip
        assert client.get(url).status_code == 200, url
    assert "security" not in schema["paths"][f"{V1}/catalog/servers"]["get"]


def test_customer_sees_only_servers_of_its_own_leases(site: Site) -> None:
    acme = _ok(site.get("servers", "ann"))
    assert [s["serial"] for s in acme["items"]] == ["SN0", "SN2"] and acme["total"] == 2
    assert [s["serial"] for s in _ok(site.get("servers", "bea"))["items"]] == ["SN0", "SN1"]
    assert _ok(site.get("servers", "ann", state="leased", limit=1, offset=1))["total"] == 2
    assert _ok(site.get("servers", "olga"))["total"] == 5  # staff see the whole fleet
    assert _ok(site.get("servers", "fin"))["total"] == 5
    own = _ok(site.get("servers/SN0", "ann"))  # a past lease still shows the server
    assert own["state"] == "leased" and own["cabinet_code"] == "A01"
    assert own["purchase_price"] is None and own["po_number"] is None and own["supplier"] is None
    assert _ok(site.get("servers/SN0", "fin"))["po_number"] == "PO-1"
    for serial in ("SN1", "SN3"):  # beta's, and a server nobody leased
        other, missing = site.get(f"servers/{serial}", "ann"), site.get("servers/NOPE", "ann")
        assert other.status_code == missing.status_code == 404, other.text
        assert other.json()["code"] == missing.json()["code"] == "server.not_found"
        assert site.get(f"servers/{serial}/transitions", "ann").status_code == 404
    assert site.get("servers/SN2/transitions", "ann").status_code == 403  # own: staff data
    assert site.get("servers", "ann", supplier="New H3C").status_code == 403
    assert len(_ok(site.get("servers/SN2/transitions", "fin"))["items"]) >= 3


def test_procurement_and_racks_are_hidden_from_customers(site: Site) -> None:
    for path in ("purchase-orders/PO-1", "purchase-orders/PO-1/deliveries", "cabinets/BJ1/A01"):
        hidden = site.get(path, "ann")
        missing = site.get(path.replace("PO-1", "PO-9").replace("A01", "Z99"), "olga")
        assert hidden.status_code == missing.status_code == 404, (path, hidden.text)
        assert hidden.json()["code"] == missing.json()["code"]
        assert site.get(path, "fin").status_code == 200, path
    for path in ("sites", "cabinets", "transitions", "suppliers", "purchase-orders", "deliveries",
                 "reports/procurement/summary", "reports/procurement/overdue",
                 "reports/procurement/prices"):  # fmt: skip
        resp = site.get(path, "ann")
        assert resp.status_code == 403 and resp.json()["code"] == "auth.forbidden", path
        assert site.get(path, "fin").status_code == 200, path


def test_only_admin_and_operator_write(site: Site) -> None:
    writes = [
        ("sites", {"code": "SH1", "name": "Shanghai"}),
        ("cabinets", {"site": "BJ1", "code": "A02", "power_budget_kw": "10"}),
        ("servers", {"serial": "NEW1", "sku": H800}),
        ("servers/import", {"csv": f"serial,sku\nNEW2,{H800}\n"}),
        ("servers/SN2/transitions", {"to_state": "failed", "reason": "x"}),
        ("suppliers", {"name": "Inspur"}),
        ("purchase-orders/import", {"csv": "number\n"}),
        ("purchase-orders/PO-1/deliveries", {"serials": ["SN9"]}),
        ("purchase-orders/PO-1/cancellations", {"reason": "x"}),
    ]
    for who in ("fin", "ann"):
        for path, body in writes:
            resp = site.client.post(f"{V1}/{path}", json=body, headers=site.h[who])
            assert resp.status_code == 403 and resp.json()["code"] == "auth.forbidden", (who, path)
    made = _ok(site.client.post(f"{V1}/servers", json={"serial": "NEW1", "sku": H800}, headers=site.h["olga"]), 201)  # fmt: skip
    assert made["serial"] == "NEW1"
    log = _ok(site.get("servers/NEW1/transitions", "olga"))["items"]
    assert log[0]["actor"] == "olga"  # the caller is recorded when no actor is given


def test_economics_is_open_to_any_authenticated_user(site: Site) -> None:
    body = load_bundled("h800-bare-metal-2p1m").model_dump(mode="json", exclude_none=True)
    for who in ("ann", "fin"):
        resp = site.client.post(f"{V1}/economics/evaluate", json=body, headers=site.h[who])
        assert resp.status_code == 200 and resp.json()["npv"] is not None, who
        assert _ok(site.get("economics/scenarios", who))["items"]


def test_pagination_is_bounded_before_the_database(site: Site) -> None:
    for path in ("servers", "transitions", "contracts", "usage"):
        for offset in (2**63, 10**9 + 1, -1):
            resp = site.get(path, "olga", offset=offset)
            assert resp.status_code == 422 and resp.json()["code"] == "request.invalid", path
            assert "query.offset" in resp.json()["fields"], resp.text
        assert site.get(path, "olga", limit=501).status_code == 422
        assert _ok(site.get(path, "olga", offset=10**9))["items"] == []
    with pytest.raises(ValidationError) as err:  # the services hold the same bound (CLI, web)
        site.client.app.state.services.fleet.list_servers(offset=10**9 + 1)  # type: ignore[attr-defined]
    assert err.value.code == "request.invalid_offset"


def test_csv_imports_accept_any_line_ending_and_reject_malformed_files(site: Site) -> None:
    post = site.client.post
    op = site.h["olga"]
    csv = f"serial,sku\rCR1,{H800}\r\nCR2,{H800}\nCR3,{H800}\r"
    assert _ok(post(f"{V1}/servers/import", json={"csv": csv}, headers=op), 201)["created"] == ["CR1", "CR2", "CR3"]  # fmt: skip
    orders = "number,supplier,ordered_on,sku,quantity,unit_price,promised_on\rPO-7,New H3C,2024-01-02,HGX-H800-8,2,1,2024-02-01\r"  # fmt: skip
    assert _ok(post(f"{V1}/purchase-orders/import", json={"csv": orders}, headers=op), 201)["created"] == ["PO-7"]  # fmt: skip
    huge = f"serial,sku\nBIG,{H800}\nX{'9' * 200_000},{H800}\n"  # a field beyond csv's limit
    for path in ("servers/import", "purchase-orders/import"):
        text = huge if path.startswith("servers") else orders.replace("PO-7", "9" * 200_000)
        body = post(f"{V1}/{path}", json={"csv": text}, headers=op)
        assert body.status_code == 422 and body.json()["code"] == "import.invalid_rows", body.text
        row = body.json()["fields"]["rows"][0]
        assert (
            row["column"] == "*"
            and "malformed CSV" in row["reason"]
            and row["line"] == (3 if path.startswith("servers") else 2)
        )
    assert _ok(site.get("servers", "olga", sku=H800))["total"] == 8  # nothing half-imported


def test_text_the_database_cannot_store_is_a_422_not_a_500(site: Site) -> None:
    """PostgreSQL refuses NUL characters in text; SQLite stores them. Neither answers 5xx."""
    post, op = site.client.post, site.h["olga"]
    answers = [
        post(f"{V1}/suppliers", json={"name": "nul\x00"}, headers=op),
        post(f"{V1}/servers/import", json={"csv": f"serial,sku\nN\x00,{H800}\n"}, headers=op),
        site.get("servers", "olga", sku="a\x00"),
        site.client.get(f"{V1}/servers/a%00", headers=op),
        site.client.get(f"{V1}/purchase-orders/a%00", headers=op),
    ]
    for resp in answers:
        assert resp.status_code < 500, resp.text
        if resp.status_code == 422 and resp.json()["code"] == "request.invalid_value":
            assert "NUL" in resp.json()["message"]
    if site.client.app.state.settings.database_url.startswith("postgresql"):  # type: ignore[attr-defined]
        assert {r.status_code for r in answers} == {422}
