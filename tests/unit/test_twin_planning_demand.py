"""The twin's demand model as the planner's demand (:mod:`suanli.simulation.twin.planning`):
the Little's-law closed form against a hand computation, a scaling property, and the CLI/API
entry points (``--demand-from-twin``, ``demand_from_twin``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from suanli.api.auth import get_principal
from suanli.api.errors import install_error_handlers
from suanli.api.routers import economics
from suanli.cli.main import app
from suanli.core.errors import NotFoundError
from suanli.economics.planning import default_spec
from suanli.services.tenancy import Principal, Role
from suanli.settings import load_settings
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.planning import (
    steps,
    twin_demand,
    twin_forecast,
    with_twin_demand,
)
from suanli.simulation.twin.scenario import TwinScenario


def _with_leases(sc: TwinScenario, **leases: object) -> TwinScenario:
    twin = sc.twin.model_copy(update={"leases": sc.twin.leases.model_copy(update=leases)})
    return sc.model_copy(update={"twin": twin})


def test_fragmented_demand_by_hand() -> None:
    """fragmented-demand: λ = 12 requests/month; willingness to pay U(0.8, 1.2) against an asked
    rent equal to the market's, so a = P(wtp >= 1) = 0.5; E[size] = 0.45·1 + 0.25·2 + 0.2·4 +
    0.1·8 = 2.55 servers; E[T] = 0.35·1 + 0.25·2 + 0.2·3 + 0.1·6 + 0.1·12 = 3.25 months, renewal
    r = 0.5, so E[D] = 3.25 / 0.5 = 6.5 months. Steady state (Little): 12 · 0.5 · 2.55 · 6.5 =
    99.45 servers. Month 0: every lease arrived this month is active, 12 · 0.5 · 2.55 = 15.3.
    Month 1: P(D > 1) = 0.35·0.5 + 0.65·1 = 0.825 (one-month terms survive only by renewing),
    so 15.3 · (1 + 0.825) = 27.9225."""
    f = twin_forecast(load_twin("fragmented-demand"), 600)
    assert f.acceptance == pytest.approx(0.5, abs=1e-3)
    assert f.steady_state == pytest.approx(99.45)
    assert f.leases[0] == pytest.approx(15.3)
    assert f.leases[1] == pytest.approx(27.9225)
    assert f.leases[-1] == pytest.approx(99.45, rel=1e-9)  # 600 months: the ramp has converged
    assert np.all(np.diff(f.leases) >= 0)
    assert not f.pool.any() and not f.booked.any() and not f.inference.any()


def test_pool_and_inference_classes() -> None:
    """static-mix: a 50-server pool at 70 % load is 35 busy servers; deepseek-day's peak hour
    provisions every one of its 301 nodes."""
    mix = twin_demand(load_twin("static-mix"), 60)
    assert mix.base_units == pytest.approx(35.0)
    assert mix.rent_per_unit_month > 0
    day = twin_forecast(load_twin("deepseek-day"), 60)
    assert day.inference[0] == 301 and not day.leases.any()


@settings(max_examples=20, deadline=None)
@given(rate=st.floats(0.5, 50.0), renewal=st.floats(0.0, 0.9))
def test_doubling_the_arrival_rate_doubles_demand(rate: float, renewal: float) -> None:
    base = load_twin("fragmented-demand")
    one = twin_forecast(
        _with_leases(base, arrival_rate_per_month=rate, renewal_probability=renewal), 48
    )
    two = twin_forecast(
        _with_leases(base, arrival_rate_per_month=2 * rate, renewal_probability=renewal), 48
    )
    assert two.steady_state == pytest.approx(2 * one.steady_state)
    np.testing.assert_allclose(two.leases, 2 * one.leases)


def test_steps_stay_within_half_a_step_of_the_ramp() -> None:
    f = twin_forecast(load_twin("long-contracts"), 60)
    blocks = steps(f.leases)
    assert 0 < len(blocks) <= 12
    stepped = np.zeros(60)
    for month, units in blocks:
        stepped[month:] += units
    assert np.max(np.abs(stepped - f.leases)) <= f.leases.max() / 24 + 1e-9


def test_with_twin_demand_replaces_only_the_demand() -> None:
    spec = default_spec()
    out = with_twin_demand(spec, load_twin("long-contracts"))
    assert out.sku == spec.sku and out.existing_units == spec.existing_units
    assert out.demand != spec.demand and out.demand.base_units == 0.0
    assert all(lease.probability == 1.0 for lease in out.demand.pipeline)
    assert twin_demand(load_twin("long-contracts"), 60) == out.demand  # deterministic


def test_cli_demand_from_twin() -> None:
    runner = CliRunner()
    argv = ["plan", "purchase", "--scenarios", "5", "--oos-scenarios", "50", "--json"]
    r = runner.invoke(app, [*argv, "--demand-from-twin", "deepseek-day"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["chosen"]["servers"] > 0  # 301 nodes of demand against 100 in service
    r = runner.invoke(app, [*argv, "--demand-from-twin", "no-such-twin"])
    assert isinstance(r.exception, NotFoundError)
    assert r.exception.code == "twin.unknown_scenario"


@pytest.fixture(scope="module")
def client() -> TestClient:
    api = FastAPI()
    api.state.settings = load_settings()
    install_error_handlers(api)
    api.include_router(economics.router, prefix="/api/v1")
    api.dependency_overrides[get_principal] = lambda: Principal(1, "fin", Role.FINANCE)
    return TestClient(api)


def test_api_demand_from_twin(client: TestClient) -> None:
    body = {"scenarios": 5, "oos_scenarios": 50, "demand_from_twin": "fragmented-demand"}
    r = client.post("/api/v1/economics/plan", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["chosen"]["servers"] == 0  # ~99 servers of demand, 100 in service
    r = client.post("/api/v1/economics/plan", json={**body, "demand_from_twin": "nope"})
    assert r.status_code == 404
    assert r.json()["code"] == "twin.unknown_scenario" and "scenario" in r.json()["fields"]
