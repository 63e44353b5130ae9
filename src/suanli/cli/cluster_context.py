"""Building the cluster-wiring services for a CLI command (settings → Slurm adapter → services)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from suanli.backends.slurm import SlurmBackend, SubprocessRunner
from suanli.cli.context import open_services
from suanli.core.clock import SystemClock
from suanli.services.cloud_jobs import CloudJobService
from suanli.services.cluster import ClusterConfig, ClusterService
from suanli.services.container import Services
from suanli.settings import load_settings


@dataclass(frozen=True)
class Wiring:
    svc: Services
    cluster: ClusterService
    jobs: CloudJobService


@contextmanager
def open_wiring() -> Iterator[Wiring]:
    settings = load_settings()
    with open_services() as svc:
        backend = SlurmBackend(
            SubprocessRunner(settings.slurm_conf), SystemClock(), cluster=settings.cluster_name
        )
        config = ClusterConfig(
            settings.cluster_name,
            {k.lower(): v for k, v in settings.gres_skus.items()},
            settings.cluster_cabinet,
        )
        cluster = ClusterService(svc.sessions, svc.clock, svc.catalog, backend, config)
        yield Wiring(svc, cluster, CloudJobService(svc.sessions, svc.clock, svc.catalog, cluster))
