"""The disclosure ledger through its interfaces: API roles (finance/admin write and read,
operator and customer 403, no token 401) and the CLI, on SQLite and PostgreSQL (API) and a
fresh SQLite file (CLI)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.clock import SimClock
from suanli.settings import load_settings

V1 = "/api/v1"
ANN = {"ref": "ANN-1", "announced_on": "2024-01-02", "title": "2,000 P centre",
       "sku_mix": {"HGX-H800-8": 60}, "planned_p": "2000", "purpose": "AI centre",
       "funding_source": "raised", "raised_amount": "150000000.00"}  # fmt: skip
TR = {"ref": "TR-1", "transferred_on": "2024-02-01", "amount": "21340000.00",
      "funding_source": "raised", "counterparty": "Sub Co.", "purpose": "working capital",
      "disclosed": False}  # fmt: skip


@pytest.fixture
def api(db_url: str, clock: SimClock, bearer: Any) -> Iterator[tuple[TestClient, dict[str, Any]]]:
    app = create_app(load_settings(database_url=db_url), clock=clock)
    app.state.services.money.tenancy.create_customer("acme", "Acme")
    h = {"fin": bearer(app, "fin", "finance"), "adm": bearer(app, "adm", "admin"),
         "op": bearer(app, "op", "operator"), "cus": bearer(app, "cus", "customer", "acme")}  # fmt: skip
    with TestClient(app) as client:
        yield client, h


def test_api_roles_and_round_trip(api: tuple[TestClient, dict[str, Any]]) -> None:
    client, h = api
    for who in ("op", "cus"):
        r = client.post(f"{V1}/announcements", json=ANN, headers=h[who])
        assert (r.status_code, r.json()["code"]) == (403, "auth.forbidden")
        assert client.get(f"{V1}/fund-transfers", headers=h[who]).status_code == 403
    assert client.get(f"{V1}/announcements").status_code == 401
    r = client.post(f"{V1}/announcements", json=ANN, headers=h["fin"])
    assert r.status_code == 201, r.text
    assert (r.json()["planned_units"], r.json()["planned_p"]) == (60, "2000.000")
    r = client.post(f"{V1}/fund-transfers", json=TR, headers=h["adm"])
    assert (r.status_code, r.json()["amount"], r.json()["disclosed"]) == (201, "21340000.00", False)
    bad = client.post(f"{V1}/fund-transfers", json={**TR, "ref": "TR-2", "amount": "0.001"},
                      headers=h["fin"])  # fmt: skip
    assert (bad.status_code, bad.json()["code"]) == (422, "money.too_precise")
    missing = client.post(f"{V1}/announcements/ANN-1/orders", json={"order": "PO-9"},
                          headers=h["fin"])  # fmt: skip
    assert (missing.status_code, missing.json()["code"]) == (404, "po.not_found")
    listed = client.get(f"{V1}/fund-transfers", headers=h["fin"]).json()["items"]
    assert [t["ref"] for t in listed] == ["TR-1"]


def test_cli_records_and_lists(cli: Callable[..., tuple[int, str, str]]) -> None:
    assert cli("db", "upgrade")[0] == 0
    code, out, err = cli("report", "announce", "ANN-1", "--date", "2024-01-02", "--title", "T",
                         "--sku", "HGX-H800-8:40", "--sku", "HGX-H800-8:20", "--planned-p",
                         "2000", "--purpose", "AI centre", "--funding", "raised")  # fmt: skip
    assert code == 0, err
    assert "60 servers" in out
    code, out, err = cli("report", "transfer", "TR-1", "--amount", "21340000", "--funding",
                         "raised", "--to", "Sub Co.", "--purpose", "wc", "--date", "2024-02-01",
                         "--undisclosed")  # fmt: skip
    assert code == 0, err
    code, out, _ = cli("report", "transfers", "--json")
    assert json.loads(out)[0]["amount"] == "21340000.00"
    code, _, err = cli("report", "funding", "PO-9", "raised")
    assert code == 1 and "po.not_found" in err
    code, _, err = cli("report", "transfer", "TR-2", "--amount", "5", "--funding", "equity",
                       "--to", "x", "--purpose", "y", "--date", "2024-02-01")  # fmt: skip
    assert code == 1 and "funding.unknown_source" in err
    code, _, err = cli("report", "announce", "ANN-2", "--date", "2024-01-02", "--title", "T",
                       "--sku", "H800", "--planned-p", "1", "--purpose", "p", "--funding", "own")  # fmt: skip
    assert code == 1 and "announcement.invalid_sku_mix" in err
