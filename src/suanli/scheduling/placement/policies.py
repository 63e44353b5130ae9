"""The five baseline policies of the FGD paper, vectorised over nodes.

Owns: :class:`RandomPolicy`, :class:`DotProd`, :class:`GpuClustering`, :class:`GpuPacking` and
:class:`BestFit`. Every score is an integer (Go's truncation toward zero); normalisers are the
fixed "max spec" constants 128,000 CPU milli and 8,000 GPU milli, not the node's capacity. The
formulas are those of docs/placement.md (from the paper's simulator).
"""

from __future__ import annotations

import numpy as np

from suanli.scheduling.cluster import (
    GPU_MILLI,
    SHARE_TAG,
    BoolArray,
    ClusterState,
    IntArray,
    PodRequest,
)
from suanli.scheduling.gorand import PlacementRng
from suanli.scheduling.placement.base import ScoredPolicy, best_gpus

MAX_CPU = 128000.0
MAX_GPU = 8000.0


class RandomPolicy:
    """A uniformly random feasible node; a sharing pod gets a uniformly random fitting GPU."""

    name = "random"

    def choose(
        self, state: ClusterState, pod: PodRequest, feasible: BoolArray, rng: PlacementRng
    ) -> int:
        candidates = np.flatnonzero(feasible)
        return int(candidates[rng.intn(candidates.size)])

    def select_gpus(
        self, state: ClusterState, node: int, pod: PodRequest, rng: PlacementRng
    ) -> tuple[int, ...]:
        if not pod.is_sharing:
            return best_gpus(state.gpu_left[node], pod)
        chosen, seen = -1, 0
        for g, left in enumerate(state.gpu_left[node].tolist()):
            if left >= pod.gpu_milli:  # reservoir sampling, one draw per fitting GPU
                seen += 1
                if rng.intn(seen) == 0:
                    chosen = g
        return (chosen,)


class DotProd(ScoredPolicy):
    """Smallest dot product of free (CPU, GPU) and requested (CPU, GPU): fill nodes along the
    pod's direction."""

    name = "dotprod"

    def scores(self, state: ClusterState, pod: PodRequest) -> IntArray:
        dot = (state.cpu_left / MAX_CPU) * (pod.cpu_milli / MAX_CPU) + (
            state.gpu_total_left / MAX_GPU
        ) * (pod.total_gpu_milli / MAX_GPU)
        return np.trunc(100.0 * (1.0 - dot / 2.0)).astype(np.int64)


class BestFit(ScoredPolicy):
    """Least free (CPU, GPU) left after placing the pod, half weight each."""

    name = "bestfit"

    def scores(self, state: ClusterState, pod: PodRequest) -> IntArray:
        a = ((state.cpu_left - pod.cpu_milli) / MAX_CPU) * 0.5
        b = ((state.gpu_total_left - pod.total_gpu_milli) / MAX_GPU) * 0.5
        return np.trunc((1.0 - (a + b)) * 100.0).astype(np.int64)


class GpuClustering(ScoredPolicy):
    """Keep pods of one GPU shape together (affinity tags), then prefer fuller nodes."""

    name = "gpuclustering"

    def scores(self, state: ClusterState, pod: PodRequest) -> IntArray:
        if pod.gpu_milli <= 0:
            return np.zeros(state.n_nodes, dtype=np.int64)
        base = (25 * (8000 - state.gpu_total_left)) // 8000
        tag = SHARE_TAG if pod.is_sharing else pod.num_gpu
        has = state.tags[:, tag] > 0
        only = has & (state.n_tags == 1)
        bonus = np.where(only, 75, np.where(has, 50, np.where(state.n_tags == 0, 25, 0)))
        return (base + bonus).astype(np.int64)


class GpuPacking(ScoredPolicy):
    """Prefer partly used GPUs, then partly used nodes, then the smallest idle nodes."""

    name = "gpupacking"

    def scores(self, state: ClusterState, pod: PodRequest) -> IntArray:
        n = state.n_nodes
        if pod.gpu_milli <= 0:
            return np.zeros(n, dtype=np.int64)
        free = state.free_gpus
        all_free = free == state.gpu_count
        case3 = np.maximum(33 - free, free)
        if pod.is_sharing:
            left = state.gpu_left
            fit_min = np.where(left >= pod.gpu_milli, left, GPU_MILLI + 1).min(axis=1)
            case1 = np.maximum(100 - ((fit_min * 100) // 1000) // 10, 50)
            other = np.where(fit_min == GPU_MILLI, 49, case1)
        else:  # whole GPUs: the taken GPUs are fully free ones
            other = np.full(n, max(50 - pod.num_gpu, 33), dtype=np.int64)
        return np.where(all_free, case3, other).astype(np.int64)
