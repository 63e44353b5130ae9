"""The placement decision for one pod: filter, score, pick the node, pick the GPUs.

Owns: the :class:`Policy` protocol, :class:`Placement` (the decision, applied separately with
:meth:`ClusterState.bind`), :func:`decide` and the ``best`` GPU selection shared by most policies.

Semantics follow the FGD paper's simulator (see docs/placement.md): no feasible node means the pod
fails; exactly one feasible node is taken without scoring; otherwise the highest integer score
wins and ties go to the lowest node index (the run's fixed random node priority).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from suanli.scheduling.cluster import GPU_MILLI, BoolArray, ClusterState, IntArray, PodRequest
from suanli.scheduling.gorand import PlacementRng


@dataclass(frozen=True, slots=True)
class Placement:
    """Put the pod on ``node`` using the GPU indices ``gpus`` (empty for CPU-only pods)."""

    node: int
    gpus: tuple[int, ...]


class Policy(Protocol):
    """A placement policy. Implementations are deterministic given the state and the RNG."""

    name: str

    def choose(
        self, state: ClusterState, pod: PodRequest, feasible: BoolArray, rng: PlacementRng
    ) -> int:
        """The node for ``pod`` among ``feasible`` (at least two nodes are feasible)."""
        ...

    def select_gpus(
        self, state: ClusterState, node: int, pod: PodRequest, rng: PlacementRng
    ) -> tuple[int, ...]:
        """The GPU indices on ``node`` that ``pod`` uses."""
        ...


def decide(
    state: ClusterState, pod: PodRequest, policy: Policy, rng: PlacementRng
) -> Placement | None:
    """Where ``pod`` goes, or ``None`` if no node can host it. Does not change ``state``."""
    feasible = state.feasible(pod)
    candidates = np.flatnonzero(feasible)
    if candidates.size == 0:
        return None
    # a single feasible node is taken without scoring (Kubernetes short-circuits; only Random's
    # RNG stream notices)
    single = candidates.size == 1
    node = int(candidates[0]) if single else policy.choose(state, pod, feasible, rng)
    return Placement(node, policy.select_gpus(state, node, pod, rng))


def argmax_feasible(scores: IntArray, feasible: BoolArray) -> int:
    """The first (highest-priority) feasible node with the maximum score."""
    return int(np.argmax(np.where(feasible, scores, np.iinfo(np.int64).min)))


def best_gpus(row: IntArray, pod: PodRequest) -> tuple[int, ...]:
    """``best`` selection: a sharing pod takes the fitting GPU with the least room left (lowest
    index on ties); an exclusive pod takes the lowest-index fully free GPUs."""
    if pod.gpu_milli <= 0:
        return ()
    lefts = row.tolist()
    if pod.is_sharing:
        best, best_left = -1, GPU_MILLI + 1
        for g, left in enumerate(lefts):
            if pod.gpu_milli <= left < best_left:
                best, best_left = g, left
        return (best,)
    return tuple(g for g, left in enumerate(lefts) if left == GPU_MILLI)[: pod.num_gpu]


class ScoredPolicy:
    """Base for policies that give every feasible node an integer score and use ``best`` GPUs."""

    name = "scored"

    def scores(self, state: ClusterState, pod: PodRequest) -> IntArray:
        raise NotImplementedError

    def choose(
        self, state: ClusterState, pod: PodRequest, feasible: BoolArray, rng: PlacementRng
    ) -> int:
        return argmax_feasible(self.scores(state, pod), feasible)

    def select_gpus(
        self, state: ClusterState, node: int, pod: PodRequest, rng: PlacementRng
    ) -> tuple[int, ...]:
        return best_gpus(state.gpu_left[node], pod)
