"""The online decider replays the openb experiment exactly (``../shared/data/openb``).

The workload of the decide-latency benchmark (default trace, seed 42, tune 1.3, Go RNG) is fed one
pod at a time to :class:`OnlineScheduler` (cached ranks, per-bind rescoring) and, separately, to the
experiment's batch loop (:func:`decide` then bind). Every placement, node and GPUs, must be equal.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from suanli.scheduling.cluster import ClusterState
from suanli.scheduling.gorand import NumpyRand
from suanli.scheduling.placement import Placement, TypicalPods, decide, make_policy
from suanli.scheduling.placement.online import OnlineScheduler, shape_requests
from suanli.simulation.experiments.placement import build_workload, make_rng
from suanli.simulation.traces.openb import GPU_NODES, load_nodes, load_pods, pod_file

pytestmark = pytest.mark.dataset


@pytest.mark.parametrize(("policy", "coverage"), [("fgd", 0.95), ("fgdfull", 1.0)])
def test_online_replay_places_every_pod_as_the_experiment(
    shared_dir: Path, policy: str, coverage: float
) -> None:
    openb = shared_dir / "data" / "openb"
    trace = load_pods(pod_file(openb, "default"))
    shapes = TypicalPods.from_pods(trace.sorted_by_name(), threshold=coverage)
    work = build_workload(load_nodes(openb / GPU_NODES), trace, make_rng("go", 42))
    pods = work.pods.requests()

    batch_state = ClusterState.empty(work.nodes)
    batch_policy = make_policy(policy, shapes)
    batch: list[Placement | None] = []
    for pod in pods:
        placement = decide(batch_state, pod, batch_policy, NumpyRand(0))
        if placement is not None:
            batch_state.bind(placement.node, placement.gpus, pod)
        batch.append(placement)

    online = OnlineScheduler(
        ClusterState.empty(work.nodes), make_policy(policy, shapes), NumpyRand(0)
    )
    online.warm(shape_requests(shapes))
    replay = [online.place(pod) for pod in pods]

    assert len(replay) == 10_866
    mismatches = [i for i, (a, b) in enumerate(zip(replay, batch, strict=True)) if a != b]
    assert mismatches == []
    assert online.state.used_gpu_milli == batch_state.used_gpu_milli
    assert sum(p is None for p in replay) > 2000  # the replay runs past the failure knee
