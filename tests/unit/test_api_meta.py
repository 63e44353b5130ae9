from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.errors import NotMigratedError
from suanli.settings import load_settings
from suanli.store.db import make_engine, upgrade


def test_healthz_and_catalog(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/x.db"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    with TestClient(create_app(load_settings(database_url=url))) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        servers = client.get("/api/v1/catalog/servers").json()["items"]
        h800 = next(s for s in servers if s["key"] == "HGX-H800-8")
        assert h800["p_fp16_sparse"] > 15.8


def test_app_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    with pytest.raises(NotMigratedError, match="suanli db upgrade"):
        create_app(load_settings(database_url=f"sqlite:///{tmp_path}/y.db"))


def test_api_docs_load_nothing_from_a_cdn(tmp_path: Path) -> None:
    """/docs is Swagger UI with its assets served by the app itself (``make web-deps``)."""
    url = f"sqlite:///{tmp_path}/d.db"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    with TestClient(create_app(load_settings(database_url=url))) as client:
        page = client.get("/docs")
        assert page.status_code == 200
        assert "cdn." not in page.text and "https://" not in page.text
        assert "/static/swagger-ui-bundle.js" in page.text
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            assert client.get(f"/static/{asset}").status_code == 200
        assert client.get("/redoc").status_code == 404
