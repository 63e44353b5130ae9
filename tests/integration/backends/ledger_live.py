"""A SQLite ledger wired to the real dev Slurm cluster, for the ``live`` fixture (conftest.py)
and the tests that use it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from backend_harness import clean_slurm

from suanli.backends.slurm import SlurmBackend, SubprocessRunner
from suanli.core.clock import SimClock, SystemClock
from suanli.services.billing.leasing import ReservedSpec
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterConfig, ClusterService
from suanli.services.container import Services, build_services
from suanli.store.db import make_engine, upgrade


@dataclass
class Live:
    svc: Services
    backend: SlurmBackend
    cluster: ClusterService
    jobs: CloudJobService


@contextmanager
def live_ledger(slurm_conf: str, tmp_path: Path) -> Iterator[Live]:
    backend = clean_slurm(slurm_conf)
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    svc = build_services(engine, SimClock(SystemClock().now()), "CNY")
    svc.fleet.add_site("DEV", "dev cluster")
    svc.fleet.add_cabinet("DEV", "R1", "1000")
    cluster = ClusterService(
        svc.sessions, svc.clock, svc.catalog, backend, ClusterConfig("suanli-dev", cabinet="DEV/R1")
    )
    try:
        cluster.sync(apply=True)
        yield Live(
            svc, backend, cluster, CloudJobService(svc.sessions, svc.clock, svc.catalog, cluster)
        )
    finally:
        SubprocessRunner(slurm_conf).run(["scancel", "--partition=gpu"])
        for r in backend.reservations():
            backend.release(r.name)
        engine.dispose()


def customer(live: Live, code: str, reserved_gpus: int = 0) -> None:
    live.svc.money.tenancy.create_customer(code, code.title())
    if reserved_gpus:
        today = live.svc.clock.now().date()
        live.svc.money.leasing.create_reserved(
            ReservedSpec(code, "HGX-H800-8", reserved_gpus, "20", today, 12), "ops"
        )
