"""Hypothesis: no policy over-allocates, splits a pod across nodes or ignores a GPU-type constraint."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from suanli.scheduling.cluster import GPU_MILLI, ClusterState, NodeTable, PodTable
from suanli.scheduling.gorand import GoRand, NumpyRand
from suanli.scheduling.placement import POLICY_NAMES, TypicalPods, decide, make_policy

MODELS = ("G2", "T4", "V100M16")

node_st = st.tuples(
    st.integers(0, 64).map(lambda c: c * 1000),
    st.integers(0, 64).map(lambda m: m * 1024),
    st.sampled_from([0, 1, 2, 4, 8]),
    st.sampled_from(MODELS),
)
pod_st = st.one_of(
    st.tuples(st.integers(0, 32000), st.integers(0, 65536), st.just(0), st.just(0), st.just("")),
    st.tuples(
        st.integers(0, 16000),
        st.integers(0, 32768),
        st.just(1),
        st.integers(1, 999),
        st.sampled_from(["", "T4", "G2|V100M16"]),
    ),
    st.tuples(
        st.integers(0, 32000),
        st.integers(0, 65536),
        st.sampled_from([1, 2, 4, 8]),
        st.just(GPU_MILLI),
        st.sampled_from(["", "G2", "V100M16"]),
    ),
)


@settings(max_examples=40, deadline=None)
@given(
    node_rows=st.lists(node_st, min_size=1, max_size=8),
    pod_rows=st.lists(pod_st, min_size=1, max_size=40),
    policy=st.sampled_from(POLICY_NAMES),
    go=st.booleans(),
)
def test_placements_respect_capacity_locality_and_types(
    node_rows: list[tuple[int, int, int, str]],
    pod_rows: list[tuple[int, int, int, int, str]],
    policy: str,
    go: bool,
) -> None:
    table = NodeTable(
        names=tuple(f"n{i}" for i in range(len(node_rows))),
        cpu_milli=np.array([r[0] for r in node_rows], dtype=np.int64),
        memory_mib=np.array([r[1] for r in node_rows], dtype=np.int64),
        gpu_count=np.array([r[2] for r in node_rows], dtype=np.int64),
        models=tuple(r[3] for r in node_rows),
    )
    pods = PodTable(
        names=tuple(f"p{i}" for i in range(len(pod_rows))),
        cpu_milli=np.array([r[0] for r in pod_rows], dtype=np.int64),
        memory_mib=np.array([r[1] for r in pod_rows], dtype=np.int64),
        num_gpu=np.array([r[2] for r in pod_rows], dtype=np.int64),
        gpu_milli=np.array([r[3] for r in pod_rows], dtype=np.int64),
        gpu_spec=tuple(r[4] for r in pod_rows),
    )
    state = ClusterState.empty(table)
    impl = make_policy(policy, TypicalPods.from_pods(pods))
    rng = GoRand(3) if go else NumpyRand(3)
    used = 0
    for pod in pods.requests():
        before = state.gpu_left.copy()
        placement = decide(state, pod, impl, rng)
        if placement is None:
            assert not state.feasible(pod).any()
            continue
        node = placement.node
        assert state.feasible(pod)[node]
        assert (
            len(set(placement.gpus)) == len(placement.gpus) == (pod.num_gpu if pod.gpu_milli else 0)
        )
        if pod.gpu_spec:
            assert table.models[node] in pod.gpu_spec.split("|")
        state.bind(node, placement.gpus, pod)
        changed = np.argwhere(state.gpu_left != before)
        assert {int(r) for r in changed[:, 0]} <= {node}  # every GPU taken is on the chosen node
        used += pod.total_gpu_milli
    assert (state.cpu_left >= 0).all() and (state.mem_left >= 0).all()
    assert (state.gpu_left >= 0).all() and (state.gpu_left <= GPU_MILLI).all()
    cols = np.arange(state.gpu_left.shape[1])
    assert (state.gpu_left[cols[None, :] >= table.gpu_count[:, None]] == 0).all()
    assert state.used_gpu_milli == used == state.gpu_capacity_milli - int(state.gpu_left.sum())
