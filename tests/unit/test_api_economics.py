"""/api/v1/economics: the router on a bare app (its computations must not need the database).

The caller is a fixed finance principal through FastAPI's dependency override; that the routes
refuse a missing token (401) is proven on both engines in
``tests/integration/test_api_access.py``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from suanli.api.auth import get_principal
from suanli.api.errors import install_error_handlers
from suanli.api.routers import economics
from suanli.economics.evaluate import evaluate
from suanli.economics.library import load_bundled
from suanli.services.tenancy import Principal, Role


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(economics.router, prefix="/api/v1")
    app.dependency_overrides[get_principal] = lambda: Principal(1, "fin", Role.FINANCE)
    return TestClient(app)


@pytest.fixture(scope="module")
def body() -> dict[str, Any]:
    return load_bundled("h800-bare-metal-2p1m").model_dump(mode="json", exclude_none=True)


def test_evaluate_matches_engine(client: TestClient, body: dict[str, Any]) -> None:
    r = client.post("/api/v1/economics/evaluate", json=body, params={"table": True})
    assert r.status_code == 200
    data = r.json()
    expected = evaluate(load_bundled("h800-bare-metal-2p1m"))
    assert data["npv"] == pytest.approx(expected.npv)
    assert data["breakeven_occupancy"] == pytest.approx(expected.breakeven_occupancy)
    assert len(data["table"]) == 61


def test_evaluate_nulls_where_not_applicable(client: TestClient) -> None:
    inv = load_bundled("compare-investment").model_dump(mode="json", exclude_none=True)
    data = client.post("/api/v1/economics/evaluate", json=inv).json()
    assert data["breakeven_occupancy"] is None and data["gross_margin"] is None


@pytest.mark.parametrize(
    ("section", "field", "value", "path"),
    [
        ("fleet", "unit_price", -1, "fleet.unit_price"),
        ("form", "occupancy", 1.5, "form.occupancy"),
        ("fleet", "sku", "HGX-Z1-8", "fleet.sku"),
        (None, "horizon_months", 0, "horizon_months"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, body: dict[str, Any], section: str | None, field: str, value: Any, path: str
) -> None:
    bad = {**body, section: {**body[section], field: value}} if section else {**body, field: value}
    r = client.post("/api/v1/economics/evaluate", json=bad)
    assert r.status_code == 422
    assert r.json()["code"] == "scenario.invalid"
    assert path in r.json()["fields"]
    r = client.post("/api/v1/economics/montecarlo", json={"scenario": bad, "paths": 10})
    assert r.status_code == 422
    assert f"scenario.{path}" in r.json()["fields"]


def test_montecarlo_is_reproducible(client: TestClient, body: dict[str, Any]) -> None:
    req = {"scenario": body, "paths": 2000, "seed": 9}
    a = client.post("/api/v1/economics/montecarlo", json=req).json()
    b = client.post("/api/v1/economics/montecarlo", json=req).json()
    assert a == b
    assert 0.0 <= a["probability_of_loss"] <= 1.0
    assert len(a["fan"]["p50"]) == 61
    too_many = client.post("/api/v1/economics/montecarlo", json={**req, "paths": 10**7})
    assert too_many.status_code == 422 and "paths" in too_many.json()["fields"]


def test_sensitivity_tornado_and_grid(client: TestClient, body: dict[str, Any]) -> None:
    req = {
        "scenario": body,
        "inputs": ["form.rent_per_server_month", "opex.pue"],
        "grid": {
            "x": "form.rent_per_server_month",
            "x_values": [75000, 120000],
            "y": "form.occupancy",
            "y_values": [0.5, 0.8],
        },
    }
    data = client.post("/api/v1/economics/sensitivity", json=req).json()
    assert data["tornado"]["bars"][0]["input"] == "form.rent_per_server_month"
    values = data["grid"]["values"]
    assert values[0][0] < values[0][1] and values[0][0] < values[1][0]
    bad = client.post("/api/v1/economics/sensitivity", json={**req, "inputs": ["form.nope"]})
    assert bad.status_code == 422 and bad.json()["code"] == "scenario.unknown_input"


def test_bundled_scenarios_listed_and_round_trip(client: TestClient) -> None:
    items = client.get("/api/v1/economics/scenarios").json()["items"]
    assert {i["name"] for i in items} >= {"tianfeng-h100-70k", "soe-rule-h800-120k"}
    sc = client.get("/api/v1/economics/scenarios/tianfeng-h100-70k").json()
    assert client.post("/api/v1/economics/evaluate", json=sc).status_code == 200
    assert client.get("/api/v1/economics/scenarios/nope").status_code == 404
