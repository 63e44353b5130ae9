"""Property tests: the simulator never over-allocates, gangs are all-or-nothing, every job
finishes exactly once and GPU-seconds are conserved — for every policy, with and without node
failures, on random small clusters and traces."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jobs_helpers import check_log

from suanli.scheduling.jobs.model import ClusterSpec, JobTable, TenantQuota
from suanli.scheduling.jobs.placement import Strategy
from suanli.scheduling.jobs.policies import PolicyName, make_policy
from suanli.simulation.failures import FailureModel
from suanli.simulation.jobsim import JobSimulator


@st.composite
def scenario(draw: st.DrawFn) -> tuple[JobTable, ClusterSpec]:
    nodes = draw(st.integers(1, 4))
    per_node = draw(st.sampled_from([2, 4, 8]))
    per_leaf = draw(st.integers(0, 2))
    cluster = ClusterSpec.uniform(nodes, per_node, per_leaf)
    n = draw(st.integers(1, 18))
    total = cluster.total_gpus
    submit = draw(st.lists(st.integers(0, 60), min_size=n, max_size=n))
    duration = draw(st.lists(st.integers(1, 40), min_size=n, max_size=n))
    gpus = draw(st.lists(st.integers(1, total), min_size=n, max_size=n))
    tenant = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n))
    pclass = draw(st.lists(st.integers(0, 1), min_size=n, max_size=n))
    ckpt = draw(st.lists(st.sampled_from([3.0, 10.0, math.inf]), min_size=n, max_size=n))
    est_scale = draw(st.sampled_from([1.0, 0.5, 2.0]))
    jobs = JobTable.build(
        submit,
        duration,
        gpus,
        tenant=tenant,
        pclass=pclass,
        checkpoint=ckpt,
        estimate=[d * est_scale for d in duration],
    )
    return jobs, cluster


FAST_FAILURES = FailureModel(
    rate_per_1000_node_days=2e6,  # one failure per node every ~43 s
    restart_overhead=2.0,
    same_day_share=1.0,
    long_share=0.0,
    same_day_median=20.0,
    same_day_sigma=0.5,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=scenario(),
    name=st.sampled_from([p.value for p in PolicyName]),
    strategy=st.sampled_from(list(Strategy)),
    failures=st.booleans(),
    backfill=st.booleans(),
    seed=st.integers(0, 3),
)
def test_invariants_hold_for_every_policy(
    case: tuple[JobTable, ClusterSpec],
    name: str,
    strategy: Strategy,
    failures: bool,
    backfill: bool,
    seed: int,
) -> None:
    jobs, cluster = case
    quotas = {0: TenantQuota(nominal=2, borrowing_limit=cluster.total_gpus)}
    policy = make_policy(
        name, strategy=strategy, backfill=backfill and name == "fair", quotas=quotas
    )
    log: list = []
    sim = JobSimulator(
        jobs, cluster, policy, failures=FAST_FAILURES if failures else None, seed=seed, log=log
    )
    result = sim.run()
    finishes = check_log(log, jobs, cluster)
    kept = ~result.dropped
    expected = {j: 1 for j in range(len(jobs)) if not result.dropped[j]}
    assert finishes == expected, "each admissible job completes exactly once"
    assert np.all(np.isnan(result.finish[result.dropped]))
    if name != "fair":
        assert not result.dropped.any()
    assert np.all(result.finish[kept] >= (jobs.submit + jobs.duration)[kept] - 1e-9)
    requested = float(np.dot(jobs.gpus[kept].astype(float), jobs.duration[kept]))
    lost = result.lost_failure_gpu_seconds + result.preempt_overhead_gpu_seconds
    assert result.allocated_gpu_seconds == pytest.approx(requested + lost, rel=1e-9, abs=1e-6)
    assert result.preempt_overhead_gpu_seconds == pytest.approx(0.0, abs=1e-6)
    if not failures:
        assert result.lost_failure_gpu_seconds == pytest.approx(0.0, abs=1e-6)
        assert int(result.restarts.sum()) == 0


@settings(max_examples=25, deadline=None)
@given(case=scenario(), name=st.sampled_from(["fifo", "sjf", "srtf", "las"]))
def test_runs_are_deterministic(case: tuple[JobTable, ClusterSpec], name: str) -> None:
    jobs, cluster = case
    runs = []
    for _ in range(2):
        log: list = []
        JobSimulator(
            jobs, cluster, make_policy(name), failures=FAST_FAILURES, seed=7, log=log
        ).run()
        runs.append(log)
    assert runs[0] == runs[1]


@settings(max_examples=80, deadline=None)
@given(case=scenario())
def test_backfill_never_delays_a_reserved_head(case: tuple[JobTable, ClusterSpec]) -> None:
    """EASY with exact estimates: a head starts no later than the first reservation made for
    it. (Under fair share the head itself can change as shares move, so FIFO order only.)"""
    jobs, cluster = case
    exact = JobTable.build(jobs.submit, jobs.duration, jobs.gpus)  # estimates = durations
    policy = make_policy("backfill")
    log: list = []
    JobSimulator(exact, cluster, policy, log=log).run()
    first_reservation: dict[int, float] = {}
    first_start: dict[int, float] = {}
    for kind, t, job, _ in log:
        if kind == "reserve":
            first_reservation.setdefault(job, t)
        elif kind == "start":
            first_start.setdefault(job, t)
    for job, at in first_reservation.items():
        assert first_start[job] <= at + 1e-6, (job, first_start[job], at)
