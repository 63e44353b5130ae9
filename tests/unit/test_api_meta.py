from __future__ import annotations

from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.settings import load_settings


def test_healthz_and_catalog(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(load_settings(database_url=f"sqlite:///{tmp_path}/x.db"))
    client = TestClient(app)
    assert client.get("/healthz").json()["status"] == "ok"
    servers = client.get("/api/v1/catalog/servers").json()["items"]
    h800 = next(s for s in servers if s["key"] == "HGX-H800-8")
    assert h800["p_fp16_sparse"] > 15.8
