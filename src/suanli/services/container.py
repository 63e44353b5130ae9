"""The one composition root: every service is built here, once per process (a CLI command, the
API app, a test), over one session factory, one clock and one catalog, and passed down.

- :func:`build_services` wires the ledger: fleet, procurement, imports and the money services
  (:class:`MoneyServices`: tenancy, leasing, metering, invoicing, receivables, ...).
- :func:`build_wiring` adds the cluster engine named by the settings (the Slurm adapter) and
  the services over it, ``ClusterService`` and ``CloudJobService``. Building runs no engine
  command; tests wire the simulated engine themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from suanli.backends.slurm import SlurmBackend, SubprocessRunner
from suanli.core.catalog import Catalog, default_catalog
from suanli.core.clock import Clock
from suanli.services.billing.credits import CreditService
from suanli.services.billing.idempotency import IdempotencyService
from suanli.services.billing.invoicing import BillingService
from suanli.services.billing.leasing import LeasingService
from suanli.services.billing.metering import MeteringService
from suanli.services.billing.receivables import LedgerService
from suanli.services.billing.tokens import TokenMeteringService
from suanli.services.billing.writeoffs import WriteOffService
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterConfig, ClusterService
from suanli.services.fleet.imports import ImportService
from suanli.services.fleet.procurement import ProcurementService
from suanli.services.fleet.servers import FleetService
from suanli.services.tenancy import TenancyService
from suanli.settings import Settings
from suanli.store.db import SessionFactory, make_session_factory


@dataclass(frozen=True)
class MoneyServices:
    """The leasing-and-billing services (issue 6), built beside the fleet services."""

    tenancy: TenancyService
    leasing: LeasingService
    metering: MeteringService
    billing: BillingService
    ledger: LedgerService
    idempotency: IdempotencyService
    writeoffs: WriteOffService
    credits: CreditService
    tokens: TokenMeteringService


@dataclass(frozen=True)
class Services:
    engine: Engine
    sessions: SessionFactory
    clock: Clock
    catalog: Catalog
    fleet: FleetService
    procurement: ProcurementService
    imports: ImportService
    money: MoneyServices


@dataclass(frozen=True)
class Wiring:
    """The ledger's services with a cluster engine behind them."""

    svc: Services
    cluster: ClusterService
    jobs: CloudJobService


def build_money_services(
    sessions: SessionFactory, clock: Clock, catalog: Catalog, currency: str
) -> MoneyServices:
    billing = BillingService(sessions, clock, currency)
    return MoneyServices(
        tenancy=TenancyService(sessions, clock),
        leasing=LeasingService(sessions, clock, catalog),
        metering=MeteringService(sessions, clock, catalog),
        billing=billing,
        ledger=LedgerService(sessions, clock, billing),
        idempotency=IdempotencyService(sessions, clock),
        writeoffs=WriteOffService(sessions, clock),
        credits=CreditService(sessions, clock),
        tokens=TokenMeteringService(sessions, clock),
    )


def build_services(engine: Engine, clock: Clock, currency: str = "CNY") -> Services:
    """Wire every service to one session factory and one clock."""
    sessions = make_session_factory(engine)
    catalog = default_catalog()
    return Services(
        engine=engine,
        sessions=sessions,
        clock=clock,
        catalog=catalog,
        fleet=FleetService(sessions, clock, catalog),
        procurement=ProcurementService(sessions, clock, catalog, currency),
        imports=ImportService(sessions, clock, catalog, currency),
        money=build_money_services(sessions, clock, catalog, currency),
    )


def build_wiring(svc: Services, settings: Settings, cluster: str | None = None) -> Wiring:
    """The Slurm adapter of one cluster and the cluster services over ``svc``: ``cluster`` names
    one of ``SUANLI_CLUSTERS`` (None: the first, or the single ``SUANLI_SLURM_CONF`` cluster)."""
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
