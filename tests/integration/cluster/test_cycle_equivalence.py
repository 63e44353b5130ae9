"""One scheduling cycle, two drivers: the same job sequence through the simulator and through the
live service on the simulated engine gives the same admissions and preemptions.

The cluster is the fixture's 4 nodes of 8 GPUs; every job runs 10 minutes. The sequence makes
the cycle use each product rule: spot fills the cluster; a 16-GPU reserved job evicts three spot
jobs (most recent first) to get two whole nodes; an 8-GPU reserved job evicts one more; a second
8-GPU reserved job of a customer with 8 committed GPUs waits for its quota, not for capacity;
spot jobs come back as capacity returns. The simulator resumes a preempted job where it stopped
while the engine restarts it from scratch, so the runs are compared until the first relaunched
job would end in the simulator (minute 16).
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from conftest import Wired
from suanli.core.errors import ValidationError
from suanli.scheduling.jobs.model import ClusterSpec
from suanli.scheduling.jobs.product import ProductJob, job_table, product_policy
from suanli.services.billing.leasing import ReservedSpec
from suanli.simulation.jobsim import JobSimulator

MINUTE = 60.0
HORIZON = 15  # minutes compared (see the module docstring)
COMMITTED = {"prio": 16, "acme": 8}
SEQUENCE = [  # (minute, customer, class, GPUs), in submission order
    (0, "cheap", "spot", 8),
    (0, "cheap", "spot", 8),
    (1, "cheap", "spot", 4),
    (1, "cheap", "spot", 4),
    (2, "cheap", "spot", 8),
    (3, "prio", "reserved", 16),
    (4, "acme", "reserved", 8),
    (4, "acme", "reserved", 8),
    (5, "cheap", "spot", 2),
]
NODES = ("gn1", "gn2", "gn3", "gn4")

Events = tuple[set[tuple[int, int, tuple[str, ...]]], set[tuple[int, int]]]


def _simulated() -> Events:
    jobs = [ProductJob(c, k, g, m * MINUTE, duration=10 * MINUTE) for m, c, k, g in SEQUENCE]
    table = job_table(jobs)
    log: list[tuple[str, float, int, tuple[tuple[int, int], ...]]] = []
    policy = product_policy(table, 8, COMMITTED)
    JobSimulator(table, ClusterSpec.uniform(4, 8), policy, log=log).run()
    admits, preempts = set(), set()
    for kind, at, job, placement in log:
        minute = round(at / MINUTE)
        if minute > HORIZON:
            continue
        if kind == "start":
            admits.add((minute, job, tuple(NODES[n] for n, _ in placement)))
        elif kind == "preempt":
            preempts.add((minute, job))
    return admits, preempts


def _live(w: Wired) -> Events:
    w.cluster.sync(apply=True)
    today = w.clock.now().date()
    for code in ("cheap", "prio", "acme"):
        w.svc.money.tenancy.create_customer(code, code.title())
    for code, gpus in COMMITTED.items():
        spec = ReservedSpec(code, "HGX-H800-8", gpus, "20", today, 12)
        w.svc.money.leasing.create_reserved(spec, "ops")
    start = w.clock.now()
    ids: dict[int, int] = {}  # database id -> position in SEQUENCE
    admits, preempts = set(), set()
    for minute in range(HORIZON + 1):
        w.clock.set(start + timedelta(minutes=minute))
        for pos, (at, code, klass, gpus) in enumerate(SEQUENCE):
            if at == minute:
                job = w.jobs.submit(code, gpus, klass, "train.sh")
                ids[int(job.id[1:])] = pos
        outcome = w.jobs.schedule()
        admits |= {(minute, ids[a.job], a.nodes) for a in outcome.admits}
        preempts |= {(minute, ids[p]) for p in outcome.preempts}
    return admits, preempts


def test_simulator_and_live_service_admit_and_preempt_alike(wired: Wired) -> None:
    sim_admits, sim_preempts = _simulated()
    live_admits, live_preempts = _live(wired)
    assert live_admits == sim_admits
    assert live_preempts == sim_preempts
    # the scenario exercises what it claims: evictions for whole nodes, a quota wait, returns
    assert sim_preempts == {(3, 2), (3, 3), (3, 4), (4, 1)}
    assert (3, 5, ("gn3", "gn4")) in sim_admits
    assert [a for a in sim_admits if a[1] == 7] == [(14, 7, ("gn2",))]
    assert {a[1] for a in sim_admits if a[0] >= 10} >= {1, 2, 3, 4}


@pytest.mark.parametrize("gpus", [12, 20])
def test_live_submit_refuses_a_partial_node_gang(wired: Wired, gpus: int) -> None:
    """Node size comes from the catalog (8 GPUs per HGX server): above it, whole nodes only."""
    wired.cluster.sync(apply=True)
    wired.svc.money.tenancy.create_customer("acme", "Acme")
    with pytest.raises(ValidationError) as exc:
        wired.jobs.submit("acme", gpus, "spot", "x")
    assert exc.value.code == "job.invalid_gpus"
