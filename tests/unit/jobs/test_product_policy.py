"""The product policy in the one scheduling cycle: strict priority, quota caps on the reserved
account only, whole nodes above one node, spot victims for reserved jobs (hand-worked cases)."""

from __future__ import annotations

from suanli.scheduling.jobs.cycle import CyclePlan, schedule
from suanli.scheduling.jobs.placement import Placement
from suanli.scheduling.jobs.product import ProductJob, live_cycle


def _run(
    jobs: list[ProductJob],
    free: list[int],
    running: dict[int, Placement] | None = None,
    committed: dict[str, int] | None = None,
) -> CyclePlan:
    c = live_cycle(jobs, running or {}, free, 8, committed or {})
    return schedule(c.snapshot, c.queues, c.policy)


def test_quota_caps_reserved_but_not_spot_of_the_same_customer() -> None:
    jobs = [
        ProductJob("acme", "reserved", 8, 0),
        ProductJob("acme", "reserved", 8, 1),  # 16 > 8 committed: waits for its quota
        ProductJob("acme", "spot", 8, 2),  # spot has no quota
    ]
    plan = _run(jobs, [8, 8, 8], committed={"acme": 8})
    assert [(a.job, a.placement) for a in plan.admits] == [(0, ((0, 8),)), (2, ((1, 8),))]


def test_reserved_runs_before_earlier_spot() -> None:
    jobs = [ProductJob("cheap", "spot", 8, 0), ProductJob("acme", "reserved", 8, 1)]
    plan = _run(jobs, [8], committed={"acme": 8})
    assert [a.job for a in plan.admits] == [1] and plan.preempts == ()


def test_a_gang_above_one_node_takes_whole_nodes_only() -> None:
    # 8 + 4 + 8 + 4 free = 24: a 16-GPU job takes nodes 0 and 2, never 8 + 4 + 4
    plan = _run([ProductJob("acme", "spot", 16, 0)], [8, 4, 8, 4])
    assert [a.placement for a in plan.admits] == [((0, 8), (2, 8))]
    assert _run([ProductJob("acme", "spot", 16, 0)], [8, 4, 4, 4]).admits == ()


def test_reserved_gang_evicts_spot_most_recent_first_for_whole_nodes() -> None:
    # node 0: spot j0 (8); node 1: spot j1 (4) + j2 (4); a 16-GPU reserved job needs two whole
    # nodes: evicting j2 (newest) frees 4 on node 1, j1 frees node 1, j0 frees node 0.
    jobs = [
        ProductJob("cheap", "spot", 8, 0),
        ProductJob("cheap", "spot", 4, 1),
        ProductJob("cheap", "spot", 4, 2),
        ProductJob("prio", "reserved", 16, 3),
    ]
    running: dict[int, Placement] = {0: ((0, 8),), 1: ((1, 4),), 2: ((1, 4),)}
    plan = _run(jobs, [0, 0, 8], running, committed={"prio": 16})
    assert [p.job for p in plan.preempts] == [2, 1]
    assert [(a.job, a.placement) for a in plan.admits] == [(3, ((1, 8), (2, 8)))]


def test_spot_never_evicts() -> None:
    jobs = [ProductJob("a", "spot", 8, 0), ProductJob("b", "spot", 8, 1)]
    plan = _run(jobs, [0], {0: ((0, 8),)})
    assert plan == CyclePlan((), (), None)
