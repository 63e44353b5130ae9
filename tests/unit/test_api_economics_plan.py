"""POST /api/v1/economics/plan on a bare app (no database; the finance principal is fixed)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from suanli.api.auth import get_principal
from suanli.api.errors import install_error_handlers
from suanli.api.routers import economics
from suanli.services.tenancy import Principal, Role
from suanli.settings import load_settings


@pytest.fixture(scope="module")
def client() -> TestClient:
    app = FastAPI()
    app.state.settings = load_settings(plan_max_cells=2_000_000)
    install_error_handlers(app)
    app.include_router(economics.router, prefix="/api/v1")
    app.dependency_overrides[get_principal] = lambda: Principal(1, "fin", Role.FINANCE)
    return TestClient(app)


def test_plan_default_and_custom(client: TestClient) -> None:
    spec = client.get("/api/v1/economics/plan/default").json()
    assert len(spec["sku"]) == 3
    r = client.post("/api/v1/economics/plan", json={"scenarios": 20, "oos_scenarios": 300})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["scenarios"] == 20 and out["oos_scenarios"] == 300
    assert {"chosen", "frontier", "buy_everything_now", "buy_nothing_more"} <= set(out)
    assert out["buy_nothing_more"]["out_of_sample"]["expected_npv"] == 0.0
    spec["risk"] = {"measure": "p_loss", "max_p_loss": 0.0}
    spec["solver"] = {"scenarios": 15, "oos_scenarios": 200}
    r = client.post("/api/v1/economics/plan", json={"spec": spec})
    assert r.status_code == 200, r.text
    assert r.json()["chosen"]["in_sample"]["p_loss"] == 0.0


def test_plan_refuses_bad_bodies(client: TestClient) -> None:
    r = client.post("/api/v1/economics/plan", json={"scenarios": 10**6})
    assert r.status_code == 422 and "scenarios" in r.json()["fields"], r.json()
    spec = client.get("/api/v1/economics/plan/default").json()
    spec["sku"][0]["unit_price"] = -5
    r = client.post("/api/v1/economics/plan", json={"spec": spec})
    assert r.status_code == 422
    assert "spec.sku.0.unit_price" in r.json()["fields"]
    r = client.post("/api/v1/economics/plan", json={"seed": 1})
    assert r.status_code == 422 and r.json()["code"] == "planning.invalid"


def test_plan_refuses_requests_over_the_settings_caps(client: TestClient) -> None:
    """Each cap names its field: the solver time, and the scenario-month-SKU cells that bound
    memory (default spec: 60 months x 3 SKUs, so 20,000 scenarios in all are 3.6 M cells)."""
    r = client.post("/api/v1/economics/plan", json={"oos_scenarios": 19_000})
    assert r.status_code == 422 and r.json()["code"] == "planning.invalid"
    assert list(r.json()["fields"]) == ["(scenarios + oos_scenarios) x horizon_months x skus"]
    spec = client.get("/api/v1/economics/plan/default").json()
    spec["solver"]["time_limit_s"] = 61
    r = client.post("/api/v1/economics/plan", json={"spec": spec})
    assert r.status_code == 422 and list(r.json()["fields"]) == ["spec.solver.time_limit_s"]
    spec["solver"]["time_limit_s"] = 5
    spec["risk"]["frontier"] = [i / 100 for i in range(13)]
    r = client.post("/api/v1/economics/plan", json={"spec": spec})
    assert r.status_code == 422 and "spec.risk.frontier" in r.json()["fields"]
