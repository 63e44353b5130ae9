"""/api/v1/jobs on both engines: submit queues (no engine call), scoping, cancel of a queued job."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.clock import SimClock
from suanli.settings import load_settings


def test_jobs_api(db_url: str, clock: SimClock, bearer: Any) -> None:
    app = create_app(load_settings(database_url=db_url, slurm_conf="/nonexistent"), clock=clock)
    with TestClient(app) as client:
        app.state.services.money.tenancy.create_customer("acme", "Acme")
        app.state.services.money.tenancy.create_customer("other", "Other")
        ops = bearer(app, "ops", "operator")
        acme = bearer(app, "acme-user", "customer", "acme")
        other = bearer(app, "other-user", "customer", "other")
        body = {"gpus": 4, "job_class": "spot", "command": "python x.py"}
        r = client.post("/api/v1/jobs", json=body, headers=acme)
        assert r.status_code == 201, r.text
        job = r.json()
        assert (job["customer"], job["state"]) == ("acme", "queued")
        r = client.post("/api/v1/jobs", json=body, headers=ops)
        assert r.status_code == 422 and r.json()["code"] == "job.customer_required"
        r = client.post("/api/v1/jobs", json={**body, "gpus": 12, "customer": "acme"}, headers=ops)
        assert r.status_code == 422 and r.json()["code"] == "job.invalid_gpus"
        assert client.get(f"/api/v1/jobs/{job['id']}", headers=other).status_code == 404
        assert client.get("/api/v1/jobs", headers=other).json()["total"] == 0
        assert client.get("/api/v1/jobs", headers=ops).json()["total"] == 1
        assert client.get("/api/v1/jobs/j99999999999999", headers=ops).status_code == 422
        r = client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=acme)
        assert r.status_code == 200 and r.json()["state"] == "cancelled"
        assert client.post(f"/api/v1/jobs/{job['id']}/cancel", headers=acme).status_code == 409
