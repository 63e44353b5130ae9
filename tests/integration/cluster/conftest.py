"""A ledger on both engines wired to a 4-node simulated cluster (gn1..gn4, 8 x h800 each)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import Engine

from suanli.backends.simulated import SimulatedBackend
from suanli.core.clock import SimClock
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterConfig, ClusterService
from suanli.services.container import Services, build_services


@dataclass
class Wired:
    svc: Services
    clock: SimClock
    backend: SimulatedBackend
    cluster: ClusterService
    jobs: CloudJobService


@pytest.fixture
def wired(engine: Engine, clock: SimClock) -> Wired:
    svc = build_services(engine, clock, "CNY")
    svc.fleet.add_site("DEV", "dev cluster")
    svc.fleet.add_cabinet("DEV", "R1", "1000")
    backend = SimulatedBackend.uniform(clock, 4)
    cluster = ClusterService(
        svc.sessions, clock, svc.catalog, backend, ClusterConfig("dev", cabinet="DEV/R1")
    )
    jobs = CloudJobService(
        svc.sessions, clock, svc.catalog, cluster, expected_runtime=timedelta(minutes=10)
    )
    return Wired(svc, clock, backend, cluster, jobs)
