"""Node failures: checkpoint rollback and restart overhead by hand; the rate and the repair
mixture against their parameters."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.core.errors import ValidationError
from suanli.scheduling.jobs.model import ClusterSpec, JobTable
from suanli.scheduling.jobs.policies import make_policy
from suanli.simulation.failures import DAY, FailureModel, last_checkpoint
from suanli.simulation.jobsim import JobSimulator
from suanli.simulation.metrics import summary


def test_failure_rolls_back_to_the_last_checkpoint_and_pays_the_restart() -> None:
    # A(0s, 8 GPUs, 100s of work, checkpoint every 30s). Node 0 fails at 50 s for 20 s.
    # At 50: progress 50 -> kept 30; lost 8 x 20 = 160 GPU·s. Node back at 70; A restarts,
    # spends 10 s of overhead (80 GPU·s lost), then 70 s of work: finishes at 150.
    jobs = JobTable.build([0], [100], [8], checkpoint=[30])
    model = FailureModel(rate_per_1000_node_days=0.0, restart_overhead=10.0)
    sim = JobSimulator(
        jobs,
        ClusterSpec.uniform(1),
        make_policy("fifo"),
        failures=model,
        scripted_failures=[(50.0, 0, 20.0)],
    )
    result = sim.run()
    assert result.finish.tolist() == [150.0]
    assert result.restarts.tolist() == [1]
    assert result.lost_failure_gpu_seconds == pytest.approx(240.0)
    assert result.allocated_gpu_seconds == pytest.approx(8 * (50 + 80))
    fig = summary(result)
    assert fig["lost_gpu_hours"] == pytest.approx(240 / 3600)


def test_failure_elsewhere_moves_the_job_to_a_healthy_node() -> None:
    # Two nodes; the job on node 0 (tightest fit) fails at 10 s; node 1 is free, so it restarts
    # at once there with no checkpoint: 10 s lost, then 5 s overhead + 40 s work -> ends 55.
    jobs = JobTable.build([0], [40], [4])
    model = FailureModel(rate_per_1000_node_days=0.0, restart_overhead=5.0)
    log: list = []
    JobSimulator(
        jobs,
        ClusterSpec.uniform(2),
        make_policy("fifo"),
        failures=model,
        scripted_failures=[(10.0, 0, 1000.0)],
        log=log,
    ).run()
    assert [(k, t, p) for k, t, _, p in log] == [
        ("start", 0.0, ((0, 4),)),
        ("fail", 10.0, ((0, 4),)),
        ("node_down", 10.0, ()),
        ("start", 10.0, ((1, 4),)),
        ("finish", 55.0, ((1, 4),)),
    ]


def test_a_draining_node_takes_no_new_work() -> None:
    jobs = JobTable.build([0, 0], [10, 10], [8, 8])
    sim = JobSimulator(jobs, ClusterSpec.uniform(2), make_policy("fifo"))
    sim.drain(0)
    log: list = []
    sim.log = log
    result = sim.run()
    assert [p for k, _, _, p in log if k == "start"] == [((1, 8),), ((1, 8),)]
    assert result.finish.tolist() == [10.0, 20.0]


def test_node_failure_rate_matches_llama3_default() -> None:
    # 200 busy nodes for 2,000 days at 3.79 failures per 1,000 node-days (expected about
    # 1,516 x availability 0.98). Poisson: sd ≈ 39, so ±8 % is a 3-sigma band.
    model = FailureModel()
    days = 2000.0
    jobs = JobTable.build([0.0], [days * DAY], [1], checkpoint=[3600.0])
    result = JobSimulator(
        jobs, ClusterSpec.uniform(200), make_policy("fifo"), failures=model, seed=3
    ).run()
    mean_repair = 0.62 * 0.2 + 0.28 * 7.5 + 0.10 * 21.0  # days, roughly
    expected = 3.79 / 1000 * 200 * days / (1 + 3.79 / 1000 * mean_repair)
    assert result.node_failures == pytest.approx(expected, rel=0.08)


def test_repair_time_mixture_follows_superbench_shares() -> None:
    rng = np.random.default_rng(0)
    model = FailureModel()
    times = np.array([model.repair_time(rng) for _ in range(20_000)])
    assert np.mean(times <= DAY) == pytest.approx(0.62, abs=0.015)
    assert np.mean(times > 14 * DAY) == pytest.approx(0.10, abs=0.01)


def test_checkpoint_rounding_and_validation() -> None:
    assert last_checkpoint(95.0, 30.0) == 90.0
    assert last_checkpoint(95.0, float("inf")) == 0.0
    with pytest.raises(ValidationError):
        FailureModel(rate_per_1000_node_days=-1)
