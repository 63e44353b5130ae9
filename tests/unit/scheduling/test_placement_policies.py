"""Placement policies on small hand-made clusters: formulas, tie-breaks and GPU choice."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.core.errors import ValidationError
from suanli.scheduling.cluster import ClusterState, NodeTable, PodRequest, PodTable
from suanli.scheduling.gorand import GoRand
from suanli.scheduling.placement import (
    BestFit,
    DotProd,
    Fgd,
    FragModel,
    GpuClustering,
    GpuPacking,
    RandomPolicy,
    TypicalPods,
    decide,
    make_policy,
)
from suanli.scheduling.placement.base import best_gpus


def nodes(*rows: tuple[int, int, int, str]) -> NodeTable:
    return NodeTable(
        names=tuple(f"n{i}" for i in range(len(rows))),
        cpu_milli=np.array([r[0] for r in rows], dtype=np.int64),
        memory_mib=np.array([r[1] for r in rows], dtype=np.int64),
        gpu_count=np.array([r[2] for r in rows], dtype=np.int64),
        models=tuple(r[3] for r in rows),
    )


def pods(*rows: tuple[int, int, int, int, str]) -> PodTable:
    return PodTable(
        names=tuple(f"p{i}" for i in range(len(rows))),
        cpu_milli=np.array([r[0] for r in rows], dtype=np.int64),
        memory_mib=np.array([r[1] for r in rows], dtype=np.int64),
        num_gpu=np.array([r[2] for r in rows], dtype=np.int64),
        gpu_milli=np.array([r[3] for r in rows], dtype=np.int64),
        gpu_spec=tuple(r[4] for r in rows),
    )


SHARE = PodRequest(4000, 1000, 1, 500, "")
WHOLE2 = PodRequest(8000, 1000, 2, 1000, "")


def test_feasibility_checks_cpu_memory_type_and_gpu_room() -> None:
    state = ClusterState.empty(
        nodes(
            (8000, 100, 2, "T4"),
            (8000, 10000, 2, "T4"),
            (2000, 10000, 8, "G2"),
            (64000, 10000, 1, "V100M16"),
        )
    )
    assert state.feasible(SHARE).tolist() == [False, True, False, True]
    assert state.feasible(PodRequest(1000, 10, 1, 500, "V100M16|V100M32")).tolist() == [
        False,
        False,
        False,
        True,
    ]
    assert state.feasible(WHOLE2).tolist() == [False, True, False, False]


def test_bind_refuses_over_allocation_and_keeps_aggregates() -> None:
    state = ClusterState.empty(nodes((8000, 1000, 2, "T4")))
    state.bind(0, (1,), SHARE)
    assert state.gpu_left[0].tolist() == [1000, 500]
    assert (state.gpu_total_left[0], state.free_gpus[0], state.max_left[0]) == (1500, 1, 1000)
    assert state.used_gpu_milli == 500 and state.version[0] == 1
    with pytest.raises(ValidationError):
        state.bind(0, (1,), PodRequest(0, 0, 1, 600, ""))
    with pytest.raises(ValidationError):
        state.bind(0, (0,), PodRequest(9000, 0, 1, 100, ""))


def test_best_gpu_prefers_tightest_fit_then_lowest_index() -> None:
    row = np.array([1000, 600, 700, 600], dtype=np.int64)
    assert best_gpus(row, SHARE) == (1,)
    assert best_gpus(row, PodRequest(0, 0, 1, 650, "")) == (2,)
    assert best_gpus(np.array([1000, 300, 1000, 1000]), WHOLE2) == (0, 2)
    assert best_gpus(row, PodRequest(1000, 0, 0, 0, "")) == ()


def test_dotprod_and_bestfit_use_fixed_normalisers() -> None:
    state = ClusterState.empty(nodes((64000, 1000, 8, "G2"), (32000, 1000, 2, "T4")))
    pod = PodRequest(16000, 0, 1, 1000, "")
    # dot = (64/128)(16/128) + (8000/8000)(1000/8000) = 0.1875 -> trunc(100*(1-0.09375)) = 90;
    # node 1: 0.03125 + 0.03125 -> trunc(96.875) = 96
    assert DotProd().scores(state, pod).tolist() == [90, 96]
    # a = (48/128)/2 = 0.1875, b = (7000/8000)/2 = 0.4375 -> 37; node 1: 0.0625 + 0.0625 -> 87
    assert BestFit().scores(state, pod).tolist() == [37, 87]


def test_clustering_tag_bonuses() -> None:
    state = ClusterState.empty(nodes(*[(64000, 10**6, 8, "G2")] * 4))
    state.bind(1, (0,), SHARE)  # only share-gpu
    state.bind(2, (0,), SHARE)
    state.bind(2, (1, 2), WHOLE2)  # share-gpu and 2-gpu
    state.bind(3, (0, 1), WHOLE2)  # only 2-gpu
    base = [(25 * (8000 - int(t))) // 8000 for t in state.gpu_total_left]
    got = GpuClustering().scores(state, SHARE).tolist()
    assert got == [base[0] + 25, base[1] + 75, base[2] + 50, base[3] + 0]
    assert GpuClustering().scores(state, PodRequest(1, 1, 0, 0, "")).tolist() == [0, 0, 0, 0]


def test_packing_cases() -> None:
    state = ClusterState.empty(
        nodes(
            (64000, 10**6, 8, "G2"),
            (64000, 10**6, 2, "T4"),
            (64000, 10**6, 4, "T4"),
            (64000, 10**6, 4, "T4"),
        )
    )
    state.bind(2, (0,), PodRequest(0, 0, 1, 300, ""))  # GPU 0 has 700 left
    state.bind(3, (0,), PodRequest(0, 0, 1, 1000, ""))  # GPU 0 full, others free
    got = GpuPacking().scores(state, SHARE).tolist()
    # case 3: max(33-free, free); case 1: max(100 - (700*100//1000)//10, 50) = 93; case 2: 49
    assert got == [25, 31, 93, 49]
    assert GpuPacking().scores(state, WHOLE2).tolist()[3] == 48


def test_ties_go_to_the_lowest_index() -> None:
    state = ClusterState.empty(nodes(*[(64000, 10**6, 8, "G2")] * 3))
    for policy in (DotProd(), BestFit(), GpuClustering(), GpuPacking()):
        placement = decide(state, SHARE, policy, GoRand(1))
        assert placement is not None and placement.node == 0


def test_no_feasible_node_fails_and_single_node_needs_no_draw() -> None:
    state = ClusterState.empty(nodes((1000, 10, 1, "T4"), (64000, 10**6, 1, "T4")))
    assert decide(state, PodRequest(10**6, 0, 0, 0, ""), DotProd(), GoRand(1)) is None

    class NoDraws(GoRand):
        def intn(self, n: int) -> int:
            raise AssertionError("drew")

    whole = PodRequest(2000, 0, 1, 1000, "")
    placement = decide(state, whole, RandomPolicy(), NoDraws(1))
    assert placement is not None and placement.node == 1


def test_make_policy_rejects_unknown_names() -> None:
    typical = TypicalPods.from_pods(pods((1000, 1, 1, 500, "")))
    assert make_policy("FGD", typical).name == "fgd"
    with pytest.raises(ValidationError) as info:
        make_policy("tetris", typical)
    assert info.value.code == "placement.unknown_policy"


def test_typical_pods_rank_by_count_then_shape_descending() -> None:
    table = pods(
        *[(1000, 1, 1, 500, "")] * 5,
        *[(2000, 1, 1, 500, "")] * 3,
        *[(3000, 1, 0, 0, "")] * 3,
        (4000, 1, 1, 1000, ""),
    )
    typical = TypicalPods.from_pods(table, threshold=0.95)
    assert typical.cpu.tolist() == [1000, 3000, 2000, 4000]
    typical = TypicalPods.from_pods(table, threshold=0.9)
    assert typical.cpu.tolist() == [1000, 3000, 2000]  # 11/12 ≥ 90%: stop
    typical = TypicalPods.from_pods(table, threshold=0.6)
    assert typical.cpu.tolist() == [1000, 3000]  # 8/12 ≥ 60%: stop
    assert typical.prob.tolist() == pytest.approx([5 / 8, 3 / 8])


def test_frag_bins_and_vector_equals_scalar() -> None:
    table = pods(*[(2000, 1, 1, 500, "")] * 2, (8000, 1, 0, 0, ""), (1000, 1, 1, 800, "T4"))
    typical = TypicalPods.from_pods(table, threshold=1.0)
    model = FragModel(typical, ("G2", "T4"))
    p = dict(zip(typical.cpu.tolist(), typical.prob.tolist(), strict=True))
    # G2 node, 4000 cpu, GPUs [1000, 300]: 500-pods fit (frag 300), CPU pod does not fit (T),
    # the T4-only pod has no access (T).
    expect = p[2000] * 300 + p[8000] * 1300 + p[1000] * 1300
    assert model.node_frag(4000, [1000, 300], 0) == pytest.approx(expect)
    rng = np.random.default_rng(5)
    gpus = rng.integers(0, 11, size=(200, 4)) * 100
    cpu = rng.integers(0, 10, size=200) * 1000
    codes = rng.integers(0, 2, size=200)
    vec = model.frag(cpu, gpus, codes)
    scalar = [
        model.node_frag(int(c), g.tolist(), int(m))
        for c, g, m in zip(cpu, gpus, codes, strict=True)
    ]
    assert vec.tolist() == scalar  # bit-identical, not approximately equal


def test_fgd_scores_50_when_frag_does_not_change_and_picks_first_best_gpu() -> None:
    table = pods(*[(1000, 1, 1, 500, "")] * 3, (1000, 1, 1, 1000, ""))
    state = ClusterState.empty(nodes((64000, 10**6, 4, "G2"), (64000, 10**6, 4, "G2")))
    state.bind(1, (2,), PodRequest(0, 0, 1, 500, ""))
    fgd = Fgd(TypicalPods.from_pods(table, threshold=1.0))
    cpu_only = PodRequest(1000, 0, 0, 0, "")
    score, _ = fgd.node_scores(state, cpu_only, np.array([0, 1]))
    assert score.tolist() == [50, 50]
    placement = decide(state, SHARE, fgd, GoRand(1))
    # filling the half-used GPU of node 1 removes its fragment: node 1, GPU 2
    assert placement is not None and (placement.node, placement.gpus) == (1, (2,))


def test_fgdplus_keeps_idle_nodes_whole_and_fills_the_tightest_gpu() -> None:
    table = pods(*[(1000, 1, 1, 500, "")] * 3, (1000, 1, 0, 0, ""))
    typical = TypicalPods.from_pods(table, threshold=1.0)
    state = ClusterState.empty(nodes(*[(64000, 10**6, 4, "G2")] * 3))
    state.bind(2, (1,), PodRequest(1000, 0, 1, 1000, ""))  # node 2: GPU 1 taken, 3 GPUs free
    fgd, plus = Fgd(typical), make_policy("fgdplus", typical)
    # every node scores 50 for these pods, so FGD follows the node priority (node 0)
    for pod, plus_node in (
        (PodRequest(1000, 0, 0, 0, ""), 2),  # CPU-only: FGD+ takes the node with least idle GPU
        (SHARE, 2),  # sharing: FGD+ takes a node with a GPU in use
        (PodRequest(1000, 0, 1, 1000, ""), 0),  # whole GPU: FGD's order
    ):
        assert decide(state, pod, fgd, GoRand(1)).node == 0  # type: ignore[union-attr]
        assert decide(state, pod, plus, GoRand(1)).node == plus_node  # type: ignore[union-attr]
    # two GPUs reach the best score: FGD takes the lower index, FGD+ the one with less room
    state = ClusterState.empty(nodes((64000, 10**6, 4, "G2")))
    state.bind(0, (0,), PodRequest(0, 0, 1, 300, ""))  # GPU 0: 700 left
    state.bind(0, (2,), PodRequest(0, 0, 1, 400, ""))  # GPU 2: 600 left
    small = PodRequest(1000, 0, 1, 100, "")
    tiny = TypicalPods.from_pods(pods((1000, 1, 1, 100, "")), threshold=1.0)  # nothing fragments
    assert Fgd(tiny).select_gpus(state, 0, small, GoRand(1)) == (0,)
    assert make_policy("fgdplus", tiny).select_gpus(state, 0, small, GoRand(1)) == (2,)
