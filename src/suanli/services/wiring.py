"""Building the cluster-engine services from settings: the Slurm adapter, ClusterService and
CloudJobService over the ledger's services. Constructing them runs no engine command."""

from __future__ import annotations

from dataclasses import dataclass

from suanli.backends.slurm import SlurmBackend, SubprocessRunner
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterConfig, ClusterService
from suanli.services.container import Services
from suanli.settings import Settings


@dataclass(frozen=True)
class Wiring:
    svc: Services
    cluster: ClusterService
    jobs: CloudJobService


def build_wiring(svc: Services, settings: Settings) -> Wiring:
    backend = SlurmBackend(
        SubprocessRunner(settings.slurm_conf), svc.clock, cluster=settings.cluster_name
    )
    config = ClusterConfig(
        settings.cluster_name,
        {k.lower(): v for k, v in settings.gres_skus.items()},
        settings.cluster_cabinet,
    )
    cluster = ClusterService(svc.sessions, svc.clock, svc.catalog, backend, config)
    return Wiring(svc, cluster, CloudJobService(svc.sessions, svc.clock, svc.catalog, cluster))
