"""The HTTP API through httpx (TestClient) on SQLite and PostgreSQL: resources, filters,
pagination, and errors as {code, message, fields} with 422 / 409 / 404. The client calls as an
operator (full access to fleet and procurement); access rules are in ``test_api_access.py``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.clock import SimClock
from suanli.settings import load_settings

V1 = "/api/v1"


@pytest.fixture
def client(db_url: str, clock: SimClock, bearer: Any) -> Iterator[TestClient]:
    app = create_app(load_settings(database_url=db_url), clock=clock)
    with TestClient(app, headers=bearer(app, "olga", "operator")) as c:
        yield c


def _ok(resp: httpx.Response, status: int = 200) -> Any:
    assert resp.status_code == status, resp.text
    return resp.json()


def _err(resp: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert set(body) == {"code", "message", "fields"} and body["code"] == code
    return body


def test_fleet_endpoints(client: TestClient) -> None:
    _ok(client.post(f"{V1}/sites", json={"code": "BJ1", "name": "Beijing 1"}), 201)
    cab = _ok(client.post(f"{V1}/cabinets", json={"site": "BJ1", "code": "A01", "power_budget_kw": "25"}), 201)  # fmt: skip
    assert cab["power_budget_kw"] == "25.000"
    for n in range(5):
        body = {"serial": f"SN{n}", "sku": "HGX-H800-8", "state": "delivered", "actor": "ops",
                "network_group": "ib-1" if n < 2 else "ib-2", "purchase_price": "2100000"}  # fmt: skip
        server = _ok(client.post(f"{V1}/servers", json=body), 201)
    assert server["purchase_price"] == "2100000.00"  # money is a decimal string, never a float
    t = _ok(client.post(f"{V1}/servers/SN0/transitions",
                        json={"to_state": "burn_in", "reason": "rack", "cabinet": "BJ1/A01", "actor": "ops"}), 201)  # fmt: skip
    assert (t["from_state"], t["to_state"], t["actor"], t["cabinet_code"]) == ("delivered", "burn_in", "ops", "BJ1/A01")  # fmt: skip
    page = _ok(client.get(f"{V1}/servers", params={"limit": 2, "offset": 2}))
    assert page["total"] == 5 and [s["serial"] for s in page["items"]] == ["SN2", "SN3"]
    assert _ok(client.get(f"{V1}/servers", params={"network_group": "ib-1"}))["total"] == 2
    assert (
        _ok(client.get(f"{V1}/servers", params={"state": "burn_in"}))["items"][0]["serial"] == "SN0"
    )
    assert _ok(client.get(f"{V1}/servers", params={"cabinet": "BJ1/A01"}))["total"] == 1
    assert _ok(client.get(f"{V1}/servers/SN0"))["cabinet_code"] == "A01"
    assert len(_ok(client.get(f"{V1}/servers/SN0/transitions"))["items"]) == 2
    assert _ok(client.get(f"{V1}/transitions"))["total"] == 6
    assert _ok(client.get(f"{V1}/cabinets/BJ1/A01"))["used_kw"] == "10.200"
    assert [s["code"] for s in _ok(client.get(f"{V1}/sites"))["items"]] == ["BJ1"]


def test_fleet_errors(client: TestClient) -> None:
    client.post(f"{V1}/sites", json={"code": "BJ1", "name": "B"})
    client.post(f"{V1}/cabinets", json={"site": "BJ1", "code": "A01", "power_budget_kw": "12"})
    for n in range(2):
        client.post(f"{V1}/servers", json={"serial": f"SN{n}", "sku": "HGX-H800-8", "state": "delivered"})  # fmt: skip
    rack = {"to_state": "burn_in", "reason": "rack", "cabinet": "BJ1/A01"}
    _ok(client.post(f"{V1}/servers/SN0/transitions", json=rack), 201)
    _err(client.post(f"{V1}/servers/SN1/transitions", json=rack), 409, "cabinet.power_budget_exceeded")  # fmt: skip
    body = _err(client.post(f"{V1}/servers/SN1/transitions", json={"to_state": "leased", "reason": "x"}), 409, "server.invalid_transition")  # fmt: skip
    assert "to_state" in body["fields"]
    _err(client.post(f"{V1}/servers/SN1/transitions", json={"to_state": "bogus", "reason": "x"}), 422, "server.invalid_state")  # fmt: skip
    _err(client.post(f"{V1}/servers/NOPE/transitions", json={"to_state": "burn_in", "reason": "x"}), 404, "server.not_found")  # fmt: skip
    _err(client.post(f"{V1}/servers", json={"serial": "SN0", "sku": "HGX-H800-8"}), 409, "server.serial_exists")  # fmt: skip
    _err(
        client.post(f"{V1}/servers", json={"serial": "X", "sku": "NOPE"}),
        422,
        "catalog.unknown_sku",
    )
    body = _err(client.post(f"{V1}/servers", json={"sku": "HGX-H800-8"}), 422, "request.invalid")
    assert "serial" in body["fields"]
    _err(client.get(f"{V1}/servers", params={"limit": 0}), 422, "request.invalid")
    _err(client.get(f"{V1}/servers/NOPE"), 404, "server.not_found")
    _err(client.get(f"{V1}/cabinets/BJ1/Z9"), 404, "cabinet.not_found")
    _err(client.post(f"{V1}/sites", json={"code": "BJ1", "name": "again"}), 409, "site.exists")
    bad_csv = "serial,sku\nA,NOPE\nB,HGX-H800-8\nB,HGX-H800-8\n"
    body = _err(
        client.post(f"{V1}/servers/import", json={"csv": bad_csv}), 422, "import.invalid_rows"
    )
    assert [(r["line"], r["column"]) for r in body["fields"]["rows"]] == [(2, "sku"), (4, "serial")]
    assert _ok(client.get(f"{V1}/servers"))["total"] == 2


def test_procurement_endpoints(client: TestClient) -> None:
    _ok(client.post(f"{V1}/suppliers", json={"name": "New H3C"}), 201)
    order = {"number": "PO-1", "supplier": "New H3C", "ordered_on": "2023-09-15",
             "lines": [{"sku": "HGX-H800-8", "quantity": 330, "unit_price": "2100000",
                        "promised_on": "2023-12-31"}]}  # fmt: skip
    created = _ok(client.post(f"{V1}/purchase-orders", json=order), 201)
    assert created["lines"][0]["outstanding"] == 330
    serials = [f"S{i:02d}" for i in range(12)]
    got = _ok(client.post(f"{V1}/purchase-orders/PO-1/deliveries",
                          json={"serials": serials, "delivered_on": "2024-04-01"}), 201)  # fmt: skip
    assert got["delivered"] == serials
    assert len(_ok(client.get(f"{V1}/purchase-orders/PO-1/deliveries"))["items"]) == 12
    overdue = _ok(client.get(f"{V1}/reports/procurement/overdue", params={"as_of": "2024-04-01"}))
    assert overdue["items"][0]["outstanding"] == 318
    po = _ok(client.post(f"{V1}/purchase-orders/PO-1/cancellations", json={"reason": "export controls"}))  # fmt: skip
    assert po["lines"][0]["cancelled"] == 318 and po["lines"][0]["outstanding"] == 0
    summary = _ok(client.get(f"{V1}/reports/procurement/summary"))
    first = summary["orders"][0]
    assert first["ordered"]["money"] == "693000000.00"
    assert first["delivered"]["units"] == 12 and first["cancelled"]["units"] == 318
    assert round(first["ordered"]["p_fp16_sparse"]) == 5225
    prices = _ok(client.get(f"{V1}/reports/procurement/prices", params={"sku": "HGX-H800-8"}))
    assert prices["items"][0]["unit_price"] == "2100000.00"
    assert _ok(client.get(f"{V1}/purchase-orders/PO-1"))["supplier"] == "New H3C"
    assert len(_ok(client.get(f"{V1}/purchase-orders"))["items"]) == 1
    assert len(_ok(client.get(f"{V1}/deliveries"))["items"]) == 12
    csv = "number,supplier,ordered_on,sku,quantity,unit_price,promised_on\nPO-2,New H3C,2023-12-20,HGX-H800-8,20,2800000,2024-02-29\n"  # fmt: skip
    assert _ok(client.post(f"{V1}/purchase-orders/import", json={"csv": csv}), 201)["created"] == ["PO-2"]  # fmt: skip


def test_procurement_errors(client: TestClient) -> None:
    client.post(f"{V1}/suppliers", json={"name": "New H3C"})
    _err(client.post(f"{V1}/suppliers", json={"name": "New H3C"}), 409, "supplier.exists")
    order = {"number": "PO-1", "supplier": "New H3C", "ordered_on": "2023-09-15",
             "lines": [{"sku": "HGX-H800-8", "quantity": 2, "unit_price": "1", "promised_on": "2023-12-31"}]}  # fmt: skip
    _ok(client.post(f"{V1}/purchase-orders", json=order), 201)
    _err(client.post(f"{V1}/purchase-orders", json=order), 409, "po.exists")
    bad = {**order, "number": "PO-2", "supplier": "Nobody"}
    _err(client.post(f"{V1}/purchase-orders", json=bad), 404, "supplier.not_found")
    bad = {**order, "number": "PO-2", "lines": [{**order["lines"][0], "quantity": -1}]}
    body = _err(client.post(f"{V1}/purchase-orders", json=bad), 422, "po.invalid_quantity")
    assert body["fields"] == {"lines[0].quantity": "> 0"}
    _err(client.post(f"{V1}/purchase-orders", json={**order, "ordered_on": "soon"}), 422, "request.invalid")  # fmt: skip
    deliver = f"{V1}/purchase-orders/PO-1/deliveries"
    _err(client.post(deliver, json={"serials": ["A", "B", "C"], "delivered_on": "2024-01-01"}), 409, "po.over_delivery")  # fmt: skip
    _err(client.post(f"{V1}/purchase-orders/NOPE/deliveries", json={"serials": ["A"]}), 404, "po.not_found")  # fmt: skip
    _err(client.post(deliver, json={"serials": ["A"], "line_no": 7}), 404, "po.line_not_found")
    _err(client.get(f"{V1}/purchase-orders/NOPE"), 404, "po.not_found")
    _err(client.get(f"{V1}/reports/procurement/prices", params={"sku": "NOPE"}), 404, "catalog.unknown_sku")  # fmt: skip
    _ok(client.post(f"{V1}/purchase-orders/PO-1/cancellations", json={"reason": "x"}))
    _err(client.post(f"{V1}/purchase-orders/PO-1/cancellations", json={"reason": "x"}), 409, "po.nothing_to_cancel")  # fmt: skip
