"""Economics → Plan page: the form builds a plan; bad input shows a coded message, not a 500."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from suanli.web import planning


def _client() -> TestClient:
    app = FastAPI()
    app.include_router(planning.router)
    return TestClient(app)


def test_build_runs_the_planner() -> None:
    ctx = planning.build({"scenarios": "20", "seed": "3", "measure": "cvar"})
    assert ctx["error"] is None
    plan = ctx["plan"]
    assert plan["scenarios"] == 20 and plan["oos_scenarios"] == planning.PAGE_OOS
    assert [p["label"] for p in ctx["compare"]][2:] == ["buy everything now", "buy nothing more"]
    assert '"type":"bar"' in ctx["orders_chart"] or ctx["plan"]["chosen"]["orders"] == []


def test_page_and_partial_render() -> None:
    client = _client()
    r = client.get("/economics/plan/results", params={"scenarios": "15"})
    assert r.status_code == 200
    assert 'id="plan-compare"' in r.text and "buy nothing more" in r.text
    r = client.get("/economics/plan/results", params={"scenarios": "5000"})
    assert r.status_code == 200 and 'id="plan-error"' in r.text
    r = client.get("/economics/plan/results", params={"budget": "lots"})
    assert 'id="plan-error"' in r.text and "budget" in r.text


def test_full_page_has_form_and_subnav() -> None:
    r = _client().get("/economics/plan", params={"scenarios": "10"})
    assert r.status_code == 200
    assert 'id="plan-form"' in r.text and 'href="/economics"' in r.text
