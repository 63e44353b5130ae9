"""SRTF ranks a waiting job by its remaining work, not its total duration.

Ranking by the total is a plausible slip that no hand-made trace caught (issue 11 §5): a job
preempted half-way would queue behind shorter-total jobs it should beat, and on some traces the
simulator livelocks (the suite's pytest-timeout turns that into a failure).
"""

from __future__ import annotations

from jobs_helpers import check_log

from suanli.scheduling.jobs.model import ClusterSpec, JobTable
from suanli.scheduling.jobs.policies import make_policy, pending_rank
from suanli.simulation.jobsim import JobSimulator


def test_pending_rank_is_duration_minus_progress() -> None:
    jobs = JobTable.build([0], [100], [8])
    assert pending_rank(make_policy("srtf"), jobs, 0, progress=40.0, attained=320.0) == 60.0
    assert pending_rank(make_policy("sjf"), jobs, 0, progress=40.0, attained=320.0) == 100.0


def test_preempted_job_resumes_before_a_shorter_total_but_longer_remaining_job() -> None:
    # One node of 8 GPUs. A(0 s, 100 s); B(40 s, 30 s); C(50 s, 80 s); all take the node.
    # t=40: A has 60 s left > B's 30 → A preempted; B 40-70.
    # t=50: C (80 s) does not beat B (20 s left); waits.
    # t=70: waiting A (60 s left) vs C (80 s): A first, 70-130; then C 130-210.
    # Ranked by total (A 100 > C 80), C would run 70-150 and A 150-210.
    jobs = JobTable.build([0, 40, 50], [100, 30, 80], [8, 8, 8])
    cluster = ClusterSpec.uniform(1)
    log: list = []
    result = JobSimulator(jobs, cluster, make_policy("srtf"), log=log).run()
    check_log(log, jobs, cluster)
    starts = {
        j: sorted(t for kind, t, job, _ in log if kind == "start" and job == j) for j in range(3)
    }
    assert starts == {0: [0, 70], 1: [40], 2: [130]}
    assert [float(f) for f in result.finish] == [130.0, 70.0, 210.0]
    assert int(result.preemptions.sum()) == 1
