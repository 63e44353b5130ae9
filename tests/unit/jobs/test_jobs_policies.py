"""Each queue policy on a hand-made trace whose schedule was worked out by hand (in comments).

Cluster: nodes of 8 GPUs. Times in seconds. ``run`` returns (start, finish) per job.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from jobs_helpers import check_log

from suanli.core.errors import ValidationError
from suanli.scheduling.jobs.model import ClusterSpec, JobTable, PriorityClass, TenantQuota
from suanli.scheduling.jobs.policies import make_policy
from suanli.simulation.jobsim import JobSimulator


def run(jobs: JobTable, nodes: int, policy: str, **knobs: object) -> tuple[list, object]:
    log: list = []
    cluster = ClusterSpec.uniform(nodes)
    result = JobSimulator(jobs, cluster, make_policy(policy, **knobs), log=log).run()
    check_log(log, jobs, cluster)
    starts = [
        sorted(t for kind, t, j, _ in log if kind == "start" and j == job)
        for job in range(len(jobs))
    ]
    return [
        (s[0] if len(s) == 1 else tuple(s), float(result.finish[j])) for j, s in enumerate(starts)
    ], result


# A(0s, 6 GPUs, 10s), B(1s, 8 GPUs, 5s), C(2s, 2 GPUs, 20s), D(3s, 2 GPUs, 4s) on one node.
HEAD_BLOCKING = JobTable.build([0, 1, 2, 3], [10, 5, 20, 4], [6, 8, 2, 2])


def test_fifo_is_strict_head_of_line() -> None:
    # A 0-10. B needs the whole node: waits for A, 10-15. C and D wait behind B (strict), then
    # start together at 15: C 15-35, D 15-19.
    sched, _ = run(HEAD_BLOCKING, 1, "fifo")
    assert sched == [(0, 10), (10, 15), (15, 35), (15, 19)]


def test_sjf_skips_blocked_heads_in_duration_order() -> None:
    # t=2: B (5s) blocked, C (20s) fits in A's spare 2 GPUs: 2-22. t=3: node full, D waits.
    # t=10 A ends, 6 free: D (4s) before B (5s); D fits: 10-14; B waits for C: 22-27.
    sched, _ = run(HEAD_BLOCKING, 1, "sjf")
    assert sched == [(0, 10), (22, 27), (2, 22), (10, 14)]


def test_easy_backfill_only_jobs_that_do_not_delay_the_head() -> None:
    # B is the blocked head; its shadow time is 10 (A's end) and it then takes the whole node.
    # C (ends 22 > 10) may not jump it; D (3 + 4 = 7 <= 10) may: D 3-7. B 10-15, C 15-35.
    sched, _result = run(HEAD_BLOCKING, 1, "backfill")
    assert sched == [(0, 10), (10, 15), (15, 35), (3, 7)]
    # With estimates that lie (D asks for 20 s), D is refused too.
    lying = JobTable.build([0, 1, 2, 3], [10, 5, 20, 4], [6, 8, 2, 2], estimate=[10, 5, 20, 20])
    sched, _ = run(lying, 1, "backfill")
    assert sched[3] == (15, 19)


def test_srtf_preempts_the_job_with_more_remaining_work() -> None:
    # A(0, 8 GPUs, 100s); B(10, 8 GPUs, 20s). At 10 A has 90 s left > 20: preempted.
    # B 10-30; A resumes at 30 with 90 s: ends 120.
    jobs = JobTable.build([0, 10], [100, 20], [8, 8])
    sched, result = run(jobs, 1, "srtf")
    assert sched == [((0, 30), 120), (10, 30)]
    assert int(result.preemptions.sum()) == 1
    sched, _ = run(jobs, 1, "sjf")  # SJF does not preempt: A 0-100, B 100-120
    assert sched == [(0, 100), (100, 120)]


def test_las_demotes_by_attained_service_then_preempts() -> None:
    # Threshold 200 GPU·s. A(0, 8 GPUs, 50s) reaches 200 GPU·s at t=25 and drops to level 1.
    # B(10, 8 GPUs, 20s) arrives at level 0 while A is still level 0: no preemption (peers).
    # At 25 A is demoted, B preempts it: B 25-45 (160 GPU·s, stays level 0).
    # A resumes at 45 with 25 s left: ends 70.
    jobs = JobTable.build([0, 10], [50, 20], [8, 8])
    sched, result = run(jobs, 1, "las", las_thresholds=(200.0,))
    assert sched == [((0, 45), 70), (25, 45)]
    assert int(result.preemptions.sum()) == 1


def test_priority_preempts_only_spot_and_only_what_it_needs() -> None:
    # Two nodes. S1(0, spot, 8 GPUs, 100s) node 0; S2(1, spot, 8, 100s) node 1;
    # R(10, reserved, 4 GPUs, 10s). R preempts one spot job — the latest submitted, S2 — and
    # only it: R 10-20 on node 1; S2 resumes at 20 with 91 s left: ends 111.
    # R2(30, reserved, 8, 5s) waits: no spot job may be evicted for a reserved peer? It may
    # (both S1 and S2 are spot): S2 (latest) again: R2 30-35, S2 back at 35 -> ends 35+81=116.
    spot, res = int(PriorityClass.SPOT), int(PriorityClass.RESERVED)
    jobs = JobTable.build(
        [0, 1, 10, 30], [100, 100, 10, 5], [8, 8, 4, 8], pclass=[spot, spot, res, res]
    )
    sched, result = run(jobs, 2, "priority")
    assert sched == [(0, 100), ((1, 20, 35), 116), (10, 20), (30, 35)]
    assert result.preemptions.tolist() == [0, 2, 0, 0]
    # Reserved jobs are never victims, spot jobs never preempt.
    jobs = JobTable.build([0, 10], [100, 10], [8, 8], pclass=[res, spot])
    sched, _ = run(jobs, 1, "priority")
    assert sched == [(0, 100), (100, 110)]


def test_fair_share_reclaims_borrowed_quota() -> None:
    # Quotas a=8, b=8 on 16 GPUs. a submits four 4-GPU 100-s jobs at 0 and borrows b's idle
    # quota: a0,a1 on node 0, a2,a3 on node 1. b's 8-GPU job at 10 is within its quota:
    # borrowers are reclaimed, most recently started (ties: highest id) first: a3 then a2,
    # freeing node 1. b 10-110. a0, a1 end at 100; a2, a3 resume there with 90 s: end 190.
    jobs = JobTable.build(
        [0, 0, 0, 0, 10], [100] * 5, [4, 4, 4, 4, 8], tenant=["a", "a", "a", "a", "b"]
    )
    quotas = {0: TenantQuota(8), 1: TenantQuota(8)}
    sched, _result = run(jobs, 2, "fair", quotas=quotas)
    assert sched == [(0, 100), (0, 100), ((0, 100), 190), ((0, 100), 190), (10, 110)]
    # Without reclaim b waits for a's jobs: all four end at 100, b 100-200.
    sched, _ = run(jobs, 2, "fair", quotas=quotas, reclaim=False)
    assert sched[4] == (100, 200)
    # A borrowing limit of 0 keeps a inside its 8 GPUs: a2, a3 wait for a0, a1.
    capped = {0: TenantQuota(8, borrowing_limit=0), 1: TenantQuota(8)}
    sched, _ = run(jobs, 2, "fair", quotas=capped)
    assert sched[:4] == [(0, 100), (0, 100), (100, 200), (100, 200)]


def test_fair_share_orders_tenants_by_dominant_share() -> None:
    # One node. a holds 6 GPUs (0-50). At 1, a2 (a, 2 GPUs) and b1 (b, 2 GPUs) wait behind
    # nothing... the node has 2 free: b (share 0) goes before a (share 6/4): b1 1-11.
    jobs = JobTable.build([0, 1, 1], [50, 10, 10], [6, 2, 2], tenant=["a", "a", "b"])
    sched, _ = run(jobs, 1, "fair", quotas={0: TenantQuota(4), 1: TenantQuota(4)})
    assert sched == [(0, 50), (11, 21), (1, 11)]


def test_unknown_policy_is_a_coded_error() -> None:
    with pytest.raises(ValidationError) as err:
        make_policy("lottery")
    assert err.value.code == "sim.unknown_policy"
    assert "policy" in err.value.fields


def test_jobs_too_large_for_the_cluster_are_dropped() -> None:
    jobs = JobTable.build([0, 1], [5, 5], [4, 24])
    _, result = run(jobs, 2, "fifo")
    assert result.dropped.tolist() == [False, True]
    assert math.isnan(result.finish[1])
    assert np.isfinite(result.finish[0])


def test_preemption_overhead_is_paid_on_resume_and_counted() -> None:
    # As in the SRTF case, with 5 s to restore a preempted job: A resumes at 30, does no work
    # until 35, then its 90 s: ends 125. Overhead 8 GPUs x 5 s = 40 GPU·s, apart from failures.
    jobs = JobTable.build([0, 10], [100, 20], [8, 8])
    result = JobSimulator(
        jobs, ClusterSpec.uniform(1), make_policy("srtf"), preempt_overhead=5.0
    ).run()
    assert result.finish.tolist() == [125.0, 30.0]
    assert result.preempt_overhead_gpu_seconds == pytest.approx(40.0)
    assert result.lost_failure_gpu_seconds == 0.0
    assert result.allocated_gpu_seconds == pytest.approx(jobs.requested_gpu_seconds() + 40.0)
