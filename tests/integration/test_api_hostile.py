"""Hostile values on every API operation, on SQLite and PostgreSQL: a clean 4xx in the
``{code, message, fields}`` envelope (or a success), never a 5xx.

Each case is one kind of hostile value. It sweeps every operation of the OpenAPI document: each
path parameter, each query parameter and each leaf of a valid request body (nested objects and
the first item of lists included) is replaced in turn, the rest of the request left valid. The
world (a site, cabinet, supplier, customer, servers, a price, an order, a lease) is seeded once
per engine so that paths and bodies reach the services and the database, not just the parser.
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from suanli.api.app import create_app
from suanli.core.billing import parse_period
from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState
from suanli.economics.library import load_bundled
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.fleet.procurement import NewLine, NewOrder
from suanli.services.fleet.servers import NewServer
from suanli.settings import load_settings
from suanli.store.base import Base

H800 = "HGX-H800-8"


class Raw(str):
    """A JSON token sent verbatim (``1e309``, ``-0``): Python's json cannot write them."""


EDGE_DATES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0000-00-00", "9999-12-31"]
KINDS: dict[str, list[Any]] = {
    "nul": ["a\x00b", "\x00"],
    "lone_surrogate": ["a\ud800b", "\udfff"],
    "non_ascii_digits": ["j²", "j١", "١٢", "１２", "1_0"],
    "datetime_edges": EDGE_DATES,
    "non_finite": [Raw("1e309"), Raw("-1e309"), "inf", "-Infinity", "NaN"],
    "signed_zero_and_negative": [Raw("-0"), Raw("-0.0"), "-0", -1],
    "big_integers": [2**31, 2**31 - 1, 2**63, -(2**63) - 1, 10**40, "9" * 40],
}
PATH_VALUES: dict[str, list[str]] = {  # already URL-encoded
    "nul": ["a%00b"],
    "lone_surrogate": ["a%ED%A0%80b", "%FF%FE"],
    "non_ascii_digits": [quote("j²"), quote("j١")],
    "datetime_edges": [quote(v) for v in EDGE_DATES[:2]],
    "non_finite": ["inf", "1e309"],
    "signed_zero_and_negative": ["-0", "-1"],
    "big_integers": [str(2**31), str(2**63), "9" * 40],
}
WORLD: dict[str, str] = {}  # what the seed created (the invoice number)
VALID_PATH = {
    "name": "h800-bare-metal-2p1m",
    "site": "BJ1",
    "code": "A01",
    "serial": "SN1",
    "number": "PO-1",
    "ref": "ANN-1",
    "token_id": "1",
    "job": "1",
}


def _scenario() -> dict[str, Any]:
    return load_bundled("h800-bare-metal-2p1m").model_dump(mode="json", exclude_none=True)


def _bodies() -> dict[str, dict[str, Any]]:
    """A valid body per operation (optional fields included, so they are swept too)."""
    usage = {
        "event_id": "e1",
        "customer": "acme",
        "sku": H800,
        "priority_class": "standard",
        "job_id": "j1",
        "started_at": "2024-04-02T00:00:00Z",
        "ended_at": "2024-04-02T01:00:00Z",
        "gpu_seconds": "3600",
    }
    money = {
        "cabinet_fee": "3000",
        "om_fee": "1500",
        "deposit": "0",
        "prepayment": "0",
        "notice_days": 30,
        "early_termination_months": "3",
        "sla_uptime": "0.995",
        "vat_rate": "0.13",
        "fee_vat_rate": "0.06",
        "actor": "sales",
    }
    return {
        "POST /api/v1/economics/evaluate": _scenario(),
        "POST /api/v1/economics/sensitivity": {
            "scenario": _scenario(),
            "delta": 0.1,
            "metric": "npv",
            "grid": {
                "x": "fleet.unit_price",
                "x_values": [2000000.0],
                "y": "form.occupancy",
                "y_values": [0.5],
            },
        },
        "POST /api/v1/economics/montecarlo": {
            "scenario": _scenario(),
            "paths": 4,
            "seed": 1,
            "chunk_size": 4,
        },
        "POST /api/v1/economics/plan": {"scenarios": 2, "oos_scenarios": 2, "seed": 1},
        "POST /api/v1/twin/runs": {
            "scenario": "long-contracts",
            "overrides": {"horizon_months": 12, "twin": {"pool": {"load": 0.9}}},
            "paths": 1,
            "seed": 3,
        },
        "PUT /api/v1/inference-prices": {
            "model": "deepseek-v3",
            "valid_from": "2025-02-09",
            "input_hit_per_m": "0.5",
            "input_miss_per_m": "2",
            "output_per_m": "8",
            "night_discount": "0.5",
            "night_start": "00:30",
            "night_end": "08:30",
            "utc_offset_minutes": 480,
        },
        "POST /api/v1/invoices/{number}/write-offs": {
            "on": "2024-05-02",
            "reason": "customer insolvent",
            "amount": "1.00",
        },
        "POST /api/v1/write-offs/{ref}/recoveries": {
            "on": "2024-05-03",
            "reason": "administrator's dividend",
            "amount": "1.00",
        },
        "POST /api/v1/placement/decide": {
            "nodes": [
                {
                    "name": "n1",
                    "gpu_model": "V100M16",
                    "gpu_milli_left": [1000, 500],
                    "cpu_milli_left": 64000,
                    "memory_mib_left": 262144,
                }
            ],
            "pod": {"cpu_milli": 4000, "gpu_milli": 500, "memory_mib": 8192, "num_gpu": 1},
            "policy": "fgdfull",
            "typical_pods": [{"cpu_milli": 4000, "gpu_milli": 500, "num_gpu": 1, "weight": 3}],
        },
        "POST /api/v1/sites": {"code": "SH1", "name": "Shanghai", "city": "Shanghai"},
        "POST /api/v1/cabinets": {"site": "BJ1", "code": "B01", "power_budget_kw": "20"},
        "POST /api/v1/servers": {
            "serial": "NEW-1",
            "sku": H800,
            "purchase_price": "100",
            "currency": "CNY",
            "supplier": "New H3C",
            "network_group": "ib",
            "state": "delivered",
            "actor": "ops",
            "reason": "new",
        },
        "POST /api/v1/servers/import": {
            "csv": "serial,sku,purchase_price\nIMP-1,HGX-H800-8,100\n",
            "actor": "ops",
            "source": "f.csv",
        },
        "POST /api/v1/servers/{serial}/transitions": {
            "to_state": "burn_in",
            "reason": "rack",
            "cabinet": "BJ1/A01",
            "actor": "ops",
        },
        "POST /api/v1/suppliers": {"name": "Inspur", "country": "CN"},
        "POST /api/v1/purchase-orders": {
            "number": "PO-9",
            "supplier": "New H3C",
            "ordered_on": "2024-01-01",
            "currency": "CNY",
            "note": "n",
            "lines": [
                {"sku": H800, "quantity": 2, "unit_price": "100", "promised_on": "2024-02-01"}
            ],
        },
        "POST /api/v1/purchase-orders/import": {
            "csv": "number,supplier,ordered_on,sku,quantity,unit_price,promised_on\n"
            "PO-8,New H3C,2024-01-01,HGX-H800-8,1,100,2024-02-01\n"
        },
        "POST /api/v1/purchase-orders/{number}/deliveries": {
            "line_no": 1,
            "serials": ["D-1"],
            "delivered_on": "2024-01-10",
            "network_group": "ib",
            "actor": "ops",
        },
        "POST /api/v1/purchase-orders/{number}/cancellations": {
            "line_no": 1,
            "reason": "r",
            "actor": "ops",
        },
        "POST /api/v1/customers": {
            "code": "beta",
            "name": "Beta",
            "email": "a@b.c",
            "payment_terms_days": 30,
        },
        "POST /api/v1/users": {"name": "ann", "role": "customer", "customer": "acme"},
        "POST /api/v1/users/{name}/tokens": {"days": 7, "label": "x"},
        "POST /api/v1/contracts/leases": {
            "customer": "acme",
            "sku": H800,
            "count": 1,
            "monthly_rent": "70000",
            "start": "2024-05-01",
            "term_months": 12,
            **money,
        },
        "POST /api/v1/contracts/reserved": {
            "customer": "acme",
            "sku": H800,
            "committed_gpus": 8,
            "gpu_hour_rate": "10",
            "start": "2024-05-01",
            "term_months": 12,
            "min_commitment": "0",
            "deposit": "0",
            "prepayment": "0",
            "vat_rate": "0.06",
            "actor": "sales",
        },
        "POST /api/v1/contracts/{number}/terminate": {
            "effective": "2024-06-01",
            "reason": "r",
            "actor": "a",
        },
        "POST /api/v1/contracts/{number}/renew": {"months": 12},
        "POST /api/v1/leasing/servers/{serial}/failure": {"reason": "x", "actor": "a"},
        "POST /api/v1/leasing/servers/{serial}/restore": {"reason": "x", "actor": "a"},
        "POST /api/v1/leasing/servers/{serial}/deliver": {"reason": "x", "actor": "a"},
        "PUT /api/v1/prices": {
            "sku": H800,
            "priority_class": "spot",
            "gpu_hour_price": "5",
            "valid_from": "2024-01-01",
            "vat_rate": "0.06",
        },
        "POST /api/v1/usage/batches": {"records": [usage]},
        "POST /api/v1/invoice-runs": {
            "period": "2024-04",
            "customer": "acme",
            "issue_date": "2024-05-01",
        },
        "POST /api/v1/invoices/{number}/credit-notes": {"reason": "r", "lines": {"1": "10"}},
        "PUT /api/v1/invoices/{number}/fapiao": {"fapiao_number": "F-1"},
        "POST /api/v1/payments": {
            "customer": "acme",
            "amount": "100",
            "received_on": "2024-05-05",
            "kind": "payment",
            "reference": "r",
            "contract": "L-000001",
        },
        "POST /api/v1/jobs": {
            "customer": "acme",
            "gpus": 8,
            "job_class": "spot",
            "command": "train.sh",
        },
        "POST /api/v1/announcements": {
            "ref": "ANN-1",
            "announced_on": "2024-01-01",
            "title": "t",
            "sku_mix": {H800: 10},
            "planned_p": "100",
            "purpose": "p",
            "funding_source": "own",
            "raised_amount": "100",
            "actor": "a",
        },
        "POST /api/v1/announcements/{ref}/orders": {"order": "PO-1"},
        "PUT /api/v1/purchase-orders/{number}/funding": {"funding_source": "own"},
        "POST /api/v1/fund-transfers": {
            "ref": "T-1",
            "transferred_on": "2024-01-01",
            "amount": "100",
            "funding_source": "own",
            "counterparty": "c",
            "purpose": "p",
            "disclosed": True,
            "currency": "CNY",
            "actor": "a",
        },
    }


ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=ENGINES)
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """An admin client on a seeded database, one per engine for the whole module."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("hostile") / "api.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_migrated_url")
    app = create_app(
        load_settings(database_url=url), clock=SimClock(datetime(2024, 5, 2, 9, tzinfo=UTC))
    )
    svc = app.state.services
    _seed(svc)
    svc.money.tenancy.create_user("root", "admin", None)
    token = svc.money.tenancy.issue_token("root").secret
    try:
        with TestClient(
            app, headers={"Authorization": f"Bearer {token}"}, raise_server_exceptions=False
        ) as client:
            ann = _bodies()["POST /api/v1/announcements"]
            assert client.post("/api/v1/announcements", json=ann).status_code == 201
            yield client
    finally:
        if request.param == "postgres":
            names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            with svc.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        svc.engine.dispose()


def _seed(svc: Any) -> None:
    svc.fleet.add_site("BJ1", "Beijing 1")
    svc.fleet.add_cabinet("BJ1", "A01", "1000")
    svc.procurement.add_supplier("New H3C")
    svc.money.tenancy.create_customer("acme", "Acme AI")
    for n in range(4):
        svc.fleet.add_server(NewServer(f"SN{n}", H800, state=ServerState.DELIVERED), actor="ops")
    for n in (0, 2):
        svc.fleet.transition(f"SN{n}", ServerState.BURN_IN, "ops", "rack", "BJ1/A01")
        svc.fleet.transition(f"SN{n}", ServerState.AVAILABLE, "ops", "ok")
    svc.money.metering.set_price(H800, "standard", "15", date(2024, 1, 1))
    svc.procurement.create_order(
        NewOrder("PO-1", "New H3C", date(2024, 1, 1), [NewLine(H800, 5, "100", date(2024, 2, 1))])
    )
    svc.money.leasing.create_lease(
        LeaseSpec("acme", H800, "70000", date(2024, 4, 1), 12, serials=("SN0",)), "sales"
    )
    run = svc.money.billing.run(parse_period("2024-04"), issue_date=date(2024, 5, 1))
    WORLD["invoice"] = run.created[0]


# --- the sweep --------------------------------------------------------------------------------


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Paths to every scalar in a body (the first item of each list stands for all)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        if value:
            yield from _leaves(value[0], (*path, 0))
    else:
        yield path, value


def _replaced(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(body)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def _dumps(body: Any) -> str:
    """JSON with :class:`Raw` tokens inlined; lone surrogates escaped (``ensure_ascii``)."""
    raws: list[str] = []

    def mark(v: Any) -> Any:
        if isinstance(v, Raw):
            raws.append(str(v))
            return f"__raw{len(raws) - 1}__"
        if isinstance(v, dict):
            return {k: mark(x) for k, x in v.items()}
        if isinstance(v, list):
            return [mark(x) for x in v]
        return v

    text = json.dumps(mark(body))
    for i, raw in enumerate(raws):
        text = text.replace(f'"__raw{i}__"', raw)
    return text


def _valid_path(template: str, name: str) -> str:
    if name == "number" and "/contracts/" in template:
        return "L-000001"
    if name == "number" and "/invoices/" in template:
        return WORLD["invoice"]
    if name == "name" and "/users/" in template:
        return "root"
    if name == "serial" and "/leasing/" in template:
        return "SN0"
    if name == "ref" and "/write-offs/" in template:
        return "WO-000001"
    return VALID_PATH.get(name, "x")


def _url(template: str, path_values: dict[str, str], query: str = "") -> str:
    return template.format(**path_values) + (f"?{query}" if query else "")


def _requests(spec: dict[str, Any], kind: str) -> Iterator[tuple[str, str, str | None, str]]:
    """(method, url, JSON body, what was replaced) for every hostile value of ``kind`` in every
    operation."""
    bodies = _bodies()
    for template, operations in spec["paths"].items():
        for method, op in operations.items():
            params = op.get("parameters", [])
            path_names = [p["name"] for p in params if p["in"] == "path"]
            query_names = [p["name"] for p in params if p["in"] == "query"]
            valid = {n: _valid_path(template, n) for n in path_names}
            body = bodies.get(f"{method.upper()} {template}")
            text = _dumps(body) if body is not None else None

            for name in path_names:
                for bad in PATH_VALUES[kind]:
                    yield method, _url(template, {**valid, name: bad}), text, name
            for name in query_names:
                for bad in KINDS[kind]:
                    encoded = quote(str(bad), safe="", errors="surrogatepass")
                    yield method, _url(template, valid, f"{name}={encoded}"), text, name
            if body is not None:
                for leaf, _ in _leaves(body):
                    for bad in KINDS[kind]:
                        label = f"{'.'.join(map(str, leaf))}={bad!r}"
                        yield (
                            method,
                            _url(template, valid),
                            _dumps(_replaced(body, leaf, bad)),
                            label,
                        )


@pytest.mark.parametrize("kind", list(KINDS))
def test_hostile_values_answer_a_clean_4xx(api: TestClient, kind: str) -> None:
    failures = []
    count = 0
    for method, url, body, label in _requests(api.app.openapi(), kind):  # type: ignore[attr-defined]
        count += 1
        headers = {"content-type": "application/json"} if body is not None else {}
        resp = api.request(method.upper(), url, content=body, headers=headers)
        if resp.status_code >= 500:
            failures.append(
                f"{resp.status_code} {method.upper()} {url} {label} -> {resp.text[:120]}"
            )
        elif resp.status_code >= 400 and set(resp.json()) != {"code", "message", "fields"}:
            failures.append(f"no envelope: {method.upper()} {url} -> {resp.text[:200]}")
    assert count > 200
    assert not failures, f"{len(failures)} of {count}:\n" + "\n".join(failures[:40])


def test_the_named_cases(api: TestClient) -> None:
    """The issue's examples, each spelled out."""
    mc = _bodies()["POST /api/v1/economics/montecarlo"]
    resp = api.post("/api/v1/economics/montecarlo", json={**mc, "seed": -1})
    assert resp.status_code == 422 and "seed" in json.dumps(resp.json()["fields"])
    for plan in ({"seed": -1}, {"spec": {"solver": {"oos_seed": -1}}}):  # numpy raised: a 500
        resp = api.post("/api/v1/economics/plan", json=plan)
        assert resp.status_code == 422 and "seed" in json.dumps(resp.json()["fields"]), resp.text
    sens = _bodies()["POST /api/v1/economics/sensitivity"]
    sens["grid"]["x_values"] = [Raw("1e309")]
    resp = api.post(
        "/api/v1/economics/sensitivity",
        content=_dumps(sens),
        headers={"content-type": "application/json"},
    )
    assert resp.status_code == 422, resp.text
    for when in EDGE_DATES[:2]:
        resp = api.get("/api/v1/usage", params={"since": when})
        assert resp.status_code in (200, 422), resp.text
    for ref in ("j²", "j١"):  # job ids are j<ASCII digits>; int() would take both
        resp = api.get(f"/api/v1/jobs/{ref}")
        assert resp.status_code == 422 and resp.json()["code"] == "job.invalid_id"
