"""/api/v1/jobs on both engines: submit queues (no engine call), scoping, cancel of a queued job."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.api.routers.jobs import get_wiring
from suanli.backends.simulated import SimulatedBackend
from suanli.core.clock import SimClock
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterConfig, ClusterService
from suanli.services.container import Wiring
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


def test_api_tick_runs_the_control_loop(db_url: str, clock: SimClock, bearer: Any) -> None:
    """The API admits through the same control loop as `suanli cluster watch`: a job the API
    queued is launched by `POST /cluster/tick` (here over the simulated engine)."""
    app = create_app(load_settings(database_url=db_url, slurm_conf="/nonexistent"), clock=clock)
    with TestClient(app) as client:
        svc = app.state.services
        svc.fleet.add_site("DEV", "dev cluster")
        svc.fleet.add_cabinet("DEV", "R1", "1000")
        backend = SimulatedBackend.uniform(clock, 2)
        cluster = ClusterService(
            svc.sessions, clock, svc.catalog, backend, ClusterConfig("dev", cabinet="DEV/R1")
        )
        wiring = Wiring(svc, cluster, CloudJobService(svc.sessions, clock, svc.catalog, cluster))
        app.dependency_overrides[get_wiring] = lambda: wiring
        cluster.sync(apply=True)
        svc.money.tenancy.create_customer("acme", "Acme")
        ops = bearer(app, "ops", "operator")
        acme = bearer(app, "acme-user", "customer", "acme")
        body = {"gpus": 8, "job_class": "spot", "command": "python x.py"}
        job = client.post("/api/v1/jobs", json=body, headers=acme).json()
        assert job["state"] == "queued"
        assert client.post("/api/v1/cluster/tick", headers=acme).status_code == 403
        r = client.post("/api/v1/cluster/tick", headers=ops)
        assert r.status_code == 200, r.text
        assert (r.json()["launched"], r.json()["errors"]) == (1, [])
        assert client.get(f"/api/v1/jobs/{job['id']}", headers=acme).json()["state"] == "running"
