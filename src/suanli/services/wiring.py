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


def build_wiring(svc: Services, settings: Settings, cluster: str | None = None) -> Wiring:
    """The services of one cluster: ``cluster`` names one of ``SUANLI_CLUSTERS`` (None: the
    first, or the single ``SUANLI_SLURM_CONF`` cluster)."""
    site = settings.cluster_site(cluster)
    backend = SlurmBackend(SubprocessRunner(site.slurm_conf), svc.clock, cluster=site.name)
    config = ClusterConfig(
        site.name,
        {k.lower(): v for k, v in site.gres_skus.items()},
        site.cabinet,
        site.serial_prefix,
    )
    service = ClusterService(svc.sessions, svc.clock, svc.catalog, backend, config)
    return Wiring(svc, service, CloudJobService(svc.sessions, svc.clock, svc.catalog, service))
