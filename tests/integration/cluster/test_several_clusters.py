"""Several clusters watched by one ledger (issue 13): node names repeat across clusters, so each
cluster's servers carry its serial prefix; a server is never a node of two clusters; a node
failure in one cluster touches only that cluster's jobs. Simulated engines here; the same with
two real dev Slurm clusters is in tests/integration/backends/test_two_slurm_clusters.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine

from suanli.backends.simulated import SimulatedBackend
from suanli.core.clock import SimClock
from suanli.core.errors import ConflictError, ValidationError
from suanli.core.fleet import ServerState
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.control_loop import ControlLoop
from suanli.services.cluster.inventory import ClusterConfig, ClusterService, LedgerNode
from suanli.services.container import Services, build_services
from suanli.settings import ClusterSite, load_settings
from suanli.store.db import transaction


def _cluster(
    svc: Services, clock: SimClock, name: str, prefix: str, gpu_type: str = "h800"
) -> tuple[SimulatedBackend, ClusterService, CloudJobService]:
    backend = SimulatedBackend.uniform(clock, 2, gpu_type=gpu_type)
    cluster = ClusterService(
        svc.sessions, clock, svc.catalog, backend,
        ClusterConfig(name, cabinet="DEV/R1", serial_prefix=prefix),
    )  # fmt: skip
    jobs = CloudJobService(
        svc.sessions, clock, svc.catalog, cluster, expected_runtime=timedelta(hours=1)
    )
    return backend, cluster, jobs


@pytest.fixture
def svc(engine: Engine, clock: SimClock) -> Services:
    svc = build_services(engine, clock, "CNY")
    svc.fleet.add_site("DEV", "dev cluster")
    svc.fleet.add_cabinet("DEV", "R1", "1000")
    return svc


def test_two_clusters_with_the_same_node_names_share_one_ledger(
    svc: Services, clock: SimClock
) -> None:
    _, cl_a, jobs_a = _cluster(svc, clock, "a", "")
    back_b, cl_b, jobs_b = _cluster(svc, clock, "b", "b-", gpu_type="a100")
    assert cl_a.sync(apply=True).created == ("gn1", "gn2")
    assert cl_b.sync(apply=True).created == ("b-gn1", "b-gn2")
    assert svc.fleet.get_server("b-gn1").sku == "HGX-A100-8"  # mixed SKUs in one ledger
    assert svc.fleet.get_server("gn1").sku == "HGX-H800-8"
    svc.money.tenancy.create_customer("acme", "Acme")
    svc.money.metering.set_price("HGX-H800-8", "spot", "12", clock.now().date())
    svc.money.metering.set_price("HGX-A100-8", "spot", "6", clock.now().date())
    ja = jobs_a.submit("acme", 8, "spot", "train a")
    jb = jobs_b.submit("acme", 8, "spot", "train b")
    loop_a, loop_b = ControlLoop(cl_a, jobs_a, clock), ControlLoop(cl_b, jobs_b, clock)
    assert (loop_a.tick().launched, loop_b.tick().launched) == (1, 1)
    node_a = jobs_a.get(ja.id).nodes[0]
    assert jobs_b.get(jb.id).nodes == (node_a,)  # the same node *name* in both clusters
    back_b.fail_node(node_a)  # only cluster b's node fails
    clock.advance(timedelta(seconds=30))
    assert loop_b.tick().ok and loop_a.tick().ok
    assert svc.fleet.get_server(f"b-{node_a}").state is ServerState.FAILED
    assert svc.fleet.get_server(node_a).state is ServerState.AVAILABLE
    assert jobs_a.get(ja.id).state == "running" and jobs_a.get(ja.id).restarts == 0
    assert jobs_b.get(jb.id).restarts == 1


def test_a_server_is_never_a_node_of_two_clusters(svc: Services, clock: SimClock) -> None:
    _, cl_a, _ = _cluster(svc, clock, "a", "")
    _, cl_b, _ = _cluster(svc, clock, "b", "")  # same names, no prefix
    cl_a.sync(apply=True)
    with pytest.raises(ConflictError) as err:
        cl_b.sync(apply=True)
    assert err.value.code == "cluster.server_in_other_cluster"
    assert {n.node for n in _ledger(cl_a)} == {"gn1", "gn2"} and _ledger(cl_b) == []


def _ledger(cluster: ClusterService) -> list[LedgerNode]:
    with transaction(cluster.sessions) as s:
        return cluster.ledger_nodes(s)


def test_clusters_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SUANLI_CLUSTERS",
        '[{"name": "bj", "slurm_conf": "/etc/slurm-bj/slurm.conf", "cabinet": "BJ/R1"},'
        ' {"name": "sh", "slurm_conf": "/etc/slurm-sh/slurm.conf", "serial_prefix": "sh-"}]',
    )
    settings = load_settings()
    assert settings.cluster_site(None).name == "bj"
    assert settings.cluster_site("sh") == ClusterSite(
        name="sh", slurm_conf="/etc/slurm-sh/slurm.conf", serial_prefix="sh-"
    )
    with pytest.raises(ValidationError) as err:
        settings.cluster_site("gz")
    assert (err.value.code, err.value.fields) == ("settings.unknown_cluster", {"cluster": "bj|sh"})
    monkeypatch.delenv("SUANLI_CLUSTERS")
    monkeypatch.setenv("SUANLI_CLUSTER_NAME", "one")
    single = load_settings().cluster_site(None)
    assert (single.name, single.serial_prefix) == ("one", "")
