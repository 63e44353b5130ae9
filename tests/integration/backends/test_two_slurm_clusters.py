"""Two real dev Slurm clusters watched by one ledger (issue 13, ``SUANLI_CLUSTERS``): the shared
4-node cluster ``suanli-dev`` and a second 2-node cluster ``suanli-b`` on other ports with mixed
GPU types (gn1 h800, gn2 a100) and serial prefix ``b-``. The second cluster is started for this
test and stopped after it."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend_harness import SCRIPT, clean_slurm

from suanli.core.clock import SimClock, SystemClock
from suanli.core.fleet import ServerState
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.cluster.control_loop import ControlLoop
from suanli.services.container import build_services, build_wiring
from suanli.settings import ClusterSite, load_settings
from suanli.store.db import make_engine, upgrade

pytestmark = pytest.mark.slurm

B_DIR = Path(os.environ.get("SUANLI_SLURM_B_DIR", "/var/tmp/suanli-slurm-b"))
B_ENV = {
    **os.environ, "SUANLI_SLURM_DIR": str(B_DIR), "SUANLI_SLURM_PORT": "16827",
    "SUANLI_SLURM_NODE_PORT_BASE": "17100", "SUANLI_SLURM_CLUSTER": "suanli-b",
    "SUANLI_SLURM_GPU_TYPES": "h800 a100", "SUANLI_SLURM_DBD": "0",
}  # fmt: skip


def _b(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=240, check=False, env=B_ENV
    )


@pytest.fixture
def cluster_b() -> Iterator[str]:
    started = _b("start", "2")
    try:
        assert started.returncode == 0, started.stderr
        yield str(B_DIR / "slurm.conf")
    finally:
        _b("stop")


def test_one_ledger_watches_two_clusters(
    slurm_conf: str, slurm_lock: None, cluster_b: str, tmp_path: Path
) -> None:
    clean_slurm(slurm_conf)
    engine = make_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    upgrade(engine)
    svc = build_services(engine, SimClock(SystemClock().now()), "CNY")
    svc.fleet.add_site("DEV", "dev")
    svc.fleet.add_cabinet("DEV", "R1", "1000")
    settings = load_settings(clusters=[
        ClusterSite(name="suanli-dev", slurm_conf=slurm_conf, cabinet="DEV/R1"),
        ClusterSite(name="suanli-b", slurm_conf=cluster_b, cabinet="DEV/R1", serial_prefix="b-"),
    ])  # fmt: skip
    a, b = build_wiring(svc, settings, "suanli-dev"), build_wiring(svc, settings, "suanli-b")
    assert a.cluster.sync(apply=True).created == ("gn1", "gn2", "gn3", "gn4")
    assert b.cluster.sync(apply=True).created == ("b-gn1", "b-gn2")
    assert [svc.fleet.get_server(s).sku for s in ("gn2", "b-gn1", "b-gn2")] == [
        "HGX-H800-8", "HGX-H800-8", "HGX-A100-8",
    ]  # fmt: skip
    svc.money.tenancy.create_customer("acme", "Acme")
    today = svc.clock.now().date()
    lease = svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-A100-8", "900", today, 1, serials=("b-gn2",), notice_days=0), "ops"
    )
    loop_a = ControlLoop(a.cluster, a.jobs, svc.clock)
    loop_b = ControlLoop(b.cluster, b.jobs, svc.clock)
    try:
        tick_a, tick_b = loop_a.tick(), loop_b.tick()
        assert tick_a.ok and tick_b.ok, (tick_a, tick_b)
        assert tick_b.reconciled.reserved == (f"lease-{lease.number}",)
        assert {r.name: r.nodes for r in b.cluster.backend.reservations()} == {
            f"lease-{lease.number}": ("gn2",)
        }
        assert a.cluster.backend.reservations() == []  # cluster a's gn2 is another server
        assert svc.fleet.get_server("gn2").state is ServerState.AVAILABLE
        assert svc.fleet.get_server("b-gn2").state is ServerState.LEASED
    finally:
        for r in b.cluster.backend.reservations():
            b.cluster.backend.release(r.name)
        engine.dispose()
