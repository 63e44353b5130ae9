"""Placement strategies and victim selection on hand-made free vectors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suanli.scheduling.jobs.placement import Strategy, place
from suanli.scheduling.jobs.preemption import select_victims

# Four nodes, two leaves: nodes 0,1 in leaf 0; nodes 2,3 in leaf 1.
LEAF = np.array([0, 0, 1, 1])
FREE = np.array([8, 4, 8, 8])


def test_consolidated_keeps_a_job_in_one_leaf_with_fewest_nodes() -> None:
    # 16 GPUs: leaf 0 has only 12, leaf 1 has 16 on two whole nodes.
    assert place(FREE, LEAF, 16, Strategy.CONSOLIDATED) == ((2, 8), (3, 8))
    # 12 GPUs: both leaves need two nodes; leaf 0 (12 free) is the tighter fit.
    assert place(FREE, LEAF, 12, Strategy.CONSOLIDATED) == ((0, 8), (1, 4))
    # 20 GPUs fit in no single leaf: fewest nodes overall (three 8s before the 4).
    assert place(FREE, LEAF, 20, Strategy.CONSOLIDATED) == ((0, 8), (2, 8), (3, 4))


def test_small_jobs_stay_on_one_node() -> None:
    assert place(FREE, LEAF, 4, Strategy.CONSOLIDATED) == ((1, 4),)  # tightest node
    assert place(FREE, LEAF, 4, Strategy.BEST_FIT) == ((1, 4),)
    assert place(FREE, LEAF, 4, Strategy.SPREAD) == ((0, 4),)  # emptiest node
    frag = np.array([2, 2, 2, 2])
    for strategy in Strategy:
        assert place(frag, LEAF, 4, strategy) is None  # 8 free GPUs, but no node has 4


def test_best_fit_and_spread_for_multi_node_jobs() -> None:
    # Best fit: whole 8s first, the remainder on the tightest node that holds it.
    assert place(FREE, LEAF, 12, Strategy.BEST_FIT) == ((0, 8), (1, 4))
    # Spread: one node per leaf before a second node in any leaf.
    assert place(FREE, LEAF, 16, Strategy.SPREAD) == ((0, 8), (2, 8))
    assert place(FREE, LEAF, 29, Strategy.SPREAD) is None


@settings(max_examples=200, deadline=None)
@given(
    free=st.lists(st.integers(0, 8), min_size=1, max_size=12),
    gpus=st.integers(1, 40),
    strategy=st.sampled_from(list(Strategy)),
    per_leaf=st.integers(1, 4),
)
def test_placements_are_whole_gangs_within_free(
    free: list[int], gpus: int, strategy: Strategy, per_leaf: int
) -> None:
    f = np.array(free, dtype=np.int64)
    leaf = np.arange(f.size) // per_leaf
    before = f.copy()
    p = place(f, leaf, gpus, strategy)
    assert np.array_equal(f, before), "place must not mutate its input"
    if p is None:
        if gpus <= 8:
            assert f.max() < gpus
        else:
            assert f.sum() < gpus
        return
    assert sum(c for _, c in p) == gpus
    assert all(0 < c <= f[n] for n, c in p)
    assert len({n for n, _ in p}) == len(p)
    if gpus <= 8:
        assert len(p) == 1
    if strategy is Strategy.CONSOLIDATED and gpus > 8:
        # fewest nodes: no placement can use fewer nodes than the greedy bound
        need = int(np.searchsorted(np.cumsum(np.sort(f)[::-1]), gpus)) + 1
        assert len(p) >= need
        assert len(p) <= need or len({int(leaf[n]) for n, _ in p}) == 1


def test_select_victims_evicts_only_what_the_placement_uses() -> None:
    free = np.array([0, 0])
    leaf = np.array([0, 0])
    usable = np.array([True, True])
    placements = {10: ((0, 4),), 11: ((1, 8),), 12: ((0, 4),)}
    # Evict in order 10, 11, 12. An 8-GPU job: 10 frees 4 on node 0 (not enough), 11 frees
    # node 1 entirely -> placed on node 1; 10 is spared because node 0 is not used.
    choice = select_victims(free, leaf, usable, 8, [10, 11, 12], placements)
    assert choice is not None
    assert choice.placement == ((1, 8),)
    assert choice.victims == (11,)
    # A 16-GPU job needs everything.
    choice = select_victims(free, leaf, usable, 16, [10, 11, 12], placements)
    assert choice is not None and sorted(choice.victims) == [10, 11, 12]
    # Down nodes give nothing back.
    assert select_victims(free, leaf, np.array([True, False]), 8, [11], placements) is None
    assert np.array_equal(free, [0, 0])


@pytest.mark.parametrize("strategy", list(Strategy))
def test_no_fit_when_cluster_is_full(strategy: Strategy) -> None:
    assert place(np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64), 1, strategy) is None
