"""Dashboard page *Twin*: form, a run queued and shown when done, errors, the operator gate.

A real app on a migrated SQLite file; the twin registry's worker is swapped for a synchronous
fake (``NowExecutor``) so a run is done when the form's POST returns, except in the polling
test, which keeps the real worker thread and follows the htmx status fragment until 286."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.clock import SimClock
from suanli.services.container import build_services
from suanli.services.twin_runs import TwinRuns
from suanli.settings import load_settings
from suanli.store.db import make_engine, upgrade


class NowExecutor(Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    path: Path = tmp_path_factory.mktemp("twin") / "twin.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    clock = SimClock(datetime(2026, 1, 5, tzinfo=UTC))
    tenancy = build_services(engine, clock).money.tenancy
    tokens = {"admin": tenancy.bootstrap("admin").secret}
    tenancy.create_user("fin", "finance")
    tokens["finance"] = tenancy.issue_token("fin").secret
    engine.dispose()
    app = create_app(load_settings(database_url=f"sqlite:///{path}"), clock=clock)
    with TestClient(app) as client:
        yield client, tokens


@pytest.fixture
def admin(site: tuple[TestClient, dict[str, str]]) -> Iterator[TestClient]:
    client, tokens = site
    client.app.state.twin_runs = TwinRuns(SimClock(), NowExecutor())  # type: ignore[attr-defined]
    client.cookies.set("suanli_session", tokens["admin"])
    yield client
    client.cookies.clear()


FORM = {"scenario": "static-mix", "horizon": "6", "pool_load": "0.5", "paths": "2", "seed": "1"}


def test_form_runs_a_twin_and_shows_its_pnl(admin: TestClient) -> None:
    page = admin.get("/twin?scenario=pooled-cloud")
    assert page.status_code == 200 and 'value="pooled-cloud" selected' in page.text
    assert 'id="no-runs"' in page.text
    r = admin.post("/twin", data=FORM, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/twin/runs/")
    run = admin.get(r.headers["location"])
    assert 'id="twin-figures"' in run.text and 'id="twin-years"' in run.text
    assert "chart-twin-pnl" in run.text and "chart-twin-fan" in run.text
    # the form's inputs reached the twin: 6 months, pool at half load
    record = admin.app.state.twin_runs.list()[0]  # type: ignore[attr-defined]
    assert len(record.monthly) == 7 and record.summary["pool_utilization_mean"] < 0.6
    listing = admin.get("/twin").text
    assert f'data-run="{record.id}"' in listing and "static-mix" in listing


def test_bad_input_is_shown_on_the_form(admin: TestClient) -> None:
    r = admin.post("/twin", data={**FORM, "pool_load": "7"})
    assert r.status_code == 422 and 'id="twin-error"' in r.text and "twin.pool.load" in r.text
    assert admin.post("/twin", data={**FORM, "paths": "999"}).status_code == 422
    assert admin.get("/twin/runs/nope").status_code == 404


def test_finance_sees_a_403(site: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = site
    client.cookies.set("suanli_session", tokens["finance"])
    try:
        assert client.get("/twin").status_code == 403
        assert client.post("/twin", data=FORM).status_code == 403
    finally:
        client.cookies.clear()


def test_status_fragment_polls_until_done(site: tuple[TestClient, dict[str, str]]) -> None:
    client, tokens = site
    client.app.state.twin_runs = TwinRuns(SimClock())  # type: ignore[attr-defined]
    client.cookies.set("suanli_session", tokens["admin"])
    try:
        url = client.post("/twin", data=FORM, follow_redirects=False).headers["location"]
        deadline, status = time.monotonic() + 120, 200
        while status == 200 and time.monotonic() < deadline:
            time.sleep(0.1)
            fragment = client.get(f"{url}/status")
            status = fragment.status_code
        assert status == 286 and 'data-status="done"' in fragment.text
    finally:
        client.cookies.clear()
