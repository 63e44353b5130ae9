"""/api/v1/placement/decide on the full app (SQLite and PostgreSQL): a token is required, any
role may decide."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.api.routers.placement import EXAMPLE
from suanli.core.clock import SimClock
from suanli.settings import load_settings

URL = "/api/v1/placement/decide"


def test_decide_needs_a_token_and_serves_any_role(
    db_url: str, clock: SimClock, bearer: Any
) -> None:
    app = create_app(load_settings(database_url=db_url), clock=clock)
    app.state.services.money.tenancy.create_customer("acme", "Acme")
    ann = bearer(app, "ann", "customer", "acme")
    with TestClient(app) as client:
        r = client.post(URL, json=EXAMPLE)
        assert r.status_code == 401
        assert set(r.json()) == {"code", "message", "fields"}
        r = client.post(URL, json=EXAMPLE, headers={"Authorization": "Bearer wrong"})
        assert r.status_code == 401
        r = client.post(URL, json=EXAMPLE, headers=ann)
        assert r.status_code == 200 and r.json()["placed"] is True
