"""/api/v1/twin: bundled twins, a run queued and polled, coded errors, the operator gate.

The router runs on a bare app with a fixed principal (dependency override). Runs execute on an
injected synchronous executor (a fake), so a run is done when ``POST`` returns; one test uses
the real worker thread and polls, as a client would."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from suanli.api.auth import get_principal
from suanli.api.errors import install_error_handlers
from suanli.api.routers import twin
from suanli.core.clock import SimClock
from suanli.services.tenancy import Principal, Role
from suanli.services.twin_runs import MAX_QUEUED, TwinRuns
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.run import run_twin


class NowExecutor(Executor):
    """Runs each task at submission (a synchronous fake of the worker thread)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


class NeverExecutor(Executor):
    """Accepts tasks and never runs them (a worker busy forever)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return Future()


def _client(role: Role, executor: Executor | None) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(twin.router, prefix="/api/v1")
    app.state.twin_runs = TwinRuns(SimClock(), executor)
    app.dependency_overrides[get_principal] = lambda: Principal(1, "u", role)
    return TestClient(app)


BODY = {"scenario": "long-contracts", "overrides": {"horizon_months": 12}, "paths": 2, "seed": 3}


def test_run_is_queued_then_done_with_the_twins_figures() -> None:
    client = _client(Role.OPERATOR, NowExecutor())
    r = client.post("/api/v1/twin/runs", json=BODY)
    assert r.status_code == 202
    run_id = r.json()["id"]
    assert r.headers["location"] == f"/api/v1/twin/runs/{run_id}"
    got = client.get(f"/api/v1/twin/runs/{run_id}").json()
    assert got["status"] == "done" and len(got["monthly"]) == 13
    expected = run_twin(load_twin("long-contracts", {"horizon_months": 12}), seed=3, paths=2)
    assert got["summary"]["npv_mean"] == pytest.approx(expected.summary()["npv_mean"])
    assert [r["id"] for r in client.get("/api/v1/twin/runs").json()] == [run_id]


def test_a_twin_file_and_its_bad_inputs() -> None:
    client = _client(Role.ADMIN, NowExecutor())
    toml = 'base = "long-contracts"\nname = "mine"\nhorizon_months = 6\n'
    r = client.post("/api/v1/twin/runs", json={"toml": toml})
    assert r.status_code == 202 and r.json()["scenario"] == "mine"
    bad = client.post(
        "/api/v1/twin/runs",
        json={"scenario": "long-contracts", "overrides": {"twin": {"pool": {"load": 9}}}},
    )
    assert bad.status_code == 422 and "twin.pool.load" in bad.json()["fields"]
    both = client.post("/api/v1/twin/runs", json={"scenario": "long-contracts", "toml": toml})
    assert both.status_code == 422
    assert client.post("/api/v1/twin/runs", json={"scenario": "nope"}).status_code == 404
    assert client.get("/api/v1/twin/runs/feedbeef").json()["code"] == "twin.run_not_found"
    assert client.post("/api/v1/twin/runs", json={**BODY, "paths": 10_000}).status_code == 422


def test_finance_and_customers_may_not_start_runs() -> None:
    for role in (Role.FINANCE, Role.CUSTOMER):
        r = _client(role, NowExecutor()).post("/api/v1/twin/runs", json=BODY)
        assert r.status_code == 403


def test_a_full_queue_is_a_409_not_an_unbounded_backlog() -> None:
    client = _client(Role.OPERATOR, NeverExecutor())
    for _ in range(MAX_QUEUED):
        assert client.post("/api/v1/twin/runs", json=BODY).status_code == 202
    r = client.post("/api/v1/twin/runs", json=BODY)
    assert r.status_code == 409 and r.json()["code"] == "twin.queue_full"


def test_the_worker_thread_runs_it_in_the_background() -> None:
    client = _client(Role.OPERATOR, None)
    run_id = client.post("/api/v1/twin/runs", json=BODY).json()["id"]
    deadline = time.monotonic() + 60
    status = "queued"
    while status in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        status = client.get(f"/api/v1/twin/runs/{run_id}").json()["status"]
    assert status == "done"
    names = [s["name"] for s in client.get("/api/v1/twin/scenarios").json()]
    assert "fragmented-demand" in names and names == sorted(names)
