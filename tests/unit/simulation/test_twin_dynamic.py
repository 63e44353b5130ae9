"""The dynamic bare-metal/pool split: lent servers, reclaims that preempt, and the book."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.core.errors import ValidationError
from suanli.scheduling.jobs.model import ClusterSpec, JobTable
from suanli.scheduling.jobs.policies import make_policy
from suanli.simulation.failures import FailureModel
from suanli.simulation.jobsim import JobSimulator
from suanli.simulation.twin.leasebook import simulate_book
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.pool import lent_withdrawals, valley_withdrawals


def test_lent_withdrawals_take_back_the_last_lent_first() -> None:
    """Own 2 nodes; lent 2, 1, 0, 2 in four 10-second months: lent node 0 (index 2) is away in
    month 2 only; lent node 1 (index 3) is away in months 1-2 (merged into one 20 s span)."""
    nodes, spans = lent_withdrawals(2, np.array([2, 1, 0, 2]), np.array([0.0, 10, 20, 30, 40]))
    assert nodes == 2
    assert spans == [(20.0, 2, 10.0), (10.0, 3, 20.0)]


def test_a_withdrawn_node_preempts_its_job_and_takes_no_work_until_returned() -> None:
    """One 8-GPU node, one 100 s job from t=0; the node is withdrawn at t=30 for 50 s. The job
    keeps its 30 s of progress (a notified preemption) and finishes at 80 + 70 = 150 s; no GPU
    is allocated between 30 and 80."""
    jobs = JobTable.build([0.0], [100.0], [8])
    log: list[tuple[str, float, int, object]] = []
    result = JobSimulator(
        jobs,
        ClusterSpec.uniform(1, 8),
        make_policy("fifo"),
        withdrawals=[(30.0, 0, 50.0)],
        log=log,  # type: ignore[arg-type]
    ).run()
    assert result.finish.tolist() == [150.0]
    assert result.preemptions.tolist() == [1]
    assert result.allocated_gpu_seconds == pytest.approx(8 * 100.0)
    kinds = [(k, t) for k, t, *_ in log if k.startswith("node")]
    assert kinds == [("node_withdrawn", 30.0), ("node_returned", 80.0)]


def test_a_withdrawn_node_stays_out_when_a_failure_is_repaired_meanwhile() -> None:
    """A scripted failure at t=10 (repair 20 s) then a withdrawal at t=15 for 100 s: the repair
    at t=30 must not bring the node back; the job (no checkpoint: it lost its 10 s) starts
    again at 115 and ends after the restart overhead and its 100 s."""
    jobs = JobTable.build([0.0], [100.0], [8])
    result = JobSimulator(
        jobs,
        ClusterSpec.uniform(1, 8),
        make_policy("fifo"),
        scripted_failures=[(10.0, 0, 20.0)],
        withdrawals=[(15.0, 0, 100.0)],
    ).run()
    overhead = FailureModel(rate_per_1000_node_days=0.0).restart_overhead
    assert result.finish.tolist() == [115.0 + overhead + 100.0]


def _months(name: str, split: str, load: float) -> list:  # type: ignore[type-arg]
    overrides = {"horizon_months": 8, "twin": {"pool": {"split": split, "load": load}}}
    sc = load_twin(name, overrides)
    return simulate_book(sc, seed=3).months


def test_dynamic_split_lends_exactly_the_idle_servers_and_leaves_leases_alone() -> None:
    """Same seed, static vs dynamic: the lease book is identical (leases reclaim at will), each
    month lends active − own pool − leased servers, and the pool earns at least as much."""
    static = _months("static-mix", "static", 1.2)
    dynamic = _months("static-mix", "dynamic", 1.2)
    assert [m.leased_servers for m in static] == [m.leased_servers for m in dynamic]
    assert [m.rent for m in static] == [m.rent for m in dynamic]
    for m in dynamic:
        if m.pool.servers:
            assert m.pool.lent_servers == m.active_servers - m.pool.servers - m.leased_servers
    lent = sum(m.pool.lent_servers for m in dynamic)
    assert lent > 0
    assert sum(m.pool.revenue for m in dynamic) > sum(m.pool.revenue for m in static)
    for m in dynamic:
        assert m.occupied_servers <= m.active_servers + 1e-9


def test_static_split_has_no_lent_servers() -> None:
    assert all(m.pool.lent_servers == 0 for m in _months("static-mix", "static", 0.7))


def test_valley_withdrawals_follow_the_local_clock() -> None:
    """Two UTC days, one month; 2 nodes free in local hours 0-5 (UTC+8: 16:00-22:00 UTC), 1 in
    local hour 6 (22:00-23:00 UTC), none otherwise. Valley node 0 is in the pool 16-23 h each
    day, node 1 16-22 h; lent node-hours 2 × (2 × 6 + 1) = 26."""
    free = [2] * 6 + [1] + [0] * 17
    nodes, hours, spans = valley_withdrawals(10, [free], np.array([0.0, 2 * 86400.0]))
    h = 3600.0
    assert nodes == 2
    assert hours.tolist() == [26.0]
    assert spans == [
        (0.0, 10, 16 * h), (23 * h, 10, 17 * h), (47 * h, 10, 1 * h),
        (0.0, 11, 16 * h), (22 * h, 11, 18 * h), (46 * h, 11, 2 * h),
    ]  # fmt: skip


def test_valley_through_the_pool_queue_lends_exactly_the_free_node_hours() -> None:
    """deepseek-valley-pool over 3 months: each month the pool is lent exactly the node-hours
    the inference autoscaler frees, the inference month bills no training of its own, the
    pool earns more than the same twin with the valley left idle, and nothing is over-busy."""
    over = {"horizon_months": 3}
    pooled = simulate_book(load_twin("deepseek-valley-pool", over), seed=1).months
    idle = {"horizon_months": 3, "twin": {"inference": {"valley": "share", "valley_fill": 0.0}}}
    unlent = simulate_book(load_twin("deepseek-valley-pool", idle), seed=1).months
    for m in pooled[1:]:
        assert m.inference.training_node_hours == 0
        assert m.inference.valley_revenue == 0
        lent_hours = m.pool.valley_servers * m.pool.hours_in_month
        assert lent_hours == pytest.approx(m.inference.valley_node_hours)
        assert 0.0 < m.pool.utilization <= 1.0
        assert m.occupied_servers <= m.active_servers + 1e-9
    assert sum(m.pool.revenue for m in pooled) > sum(m.pool.revenue for m in unlent)
    assert [m.inference.revenue for m in pooled] == [m.inference.revenue for m in unlent]


def test_valley_pool_needs_a_pool() -> None:
    with pytest.raises(ValidationError) as err:
        load_twin("deepseek-day", {"twin": {"inference": {"valley": "pool"}}})
    assert err.value.code == "twin.invalid"
