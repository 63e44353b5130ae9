"""FGD+ (ours): FGD whose ties go to tight GPUs, busy nodes, and for CPU pods GPU-poor nodes.

Owns: :class:`FgdPlus`. Three changes to FGD, all only where FGD is indifferent:

1. **GPU inside the node.** Among the GPUs that reach the node's best FGD score, a sharing pod
   takes the one with the least room left (FGD takes the lowest index). Small leftovers get
   filled first, so fewer GPUs end up partly used.
2. **Ties between nodes, sharing pods.** FGD's integer score ties often (an unchanged frag scores
   exactly 50). Among the top-scoring nodes FGD+ puts a sharing pod on a node with a GPU in use
   rather than one whose GPUs are all free, then follows the run's node priority as before. Idle
   GPU nodes stay whole for whole-GPU pods, whose own ties keep FGD's order.
3. **CPU-only pods** usually leave every node's frag unchanged (score 50 everywhere). Among the
   top-scoring nodes FGD+ puts them where the least GPU milli is idle, so their CPU is not taken
   from nodes whose GPUs GPU pods still need.

Everything else (typical pods, frag, score, filter) is FGD's. See docs/placement.md for the
numbers against FGD on every trace.
"""

from __future__ import annotations

import numpy as np

from suanli.scheduling.cluster import GPU_MILLI, BoolArray, ClusterState, IntArray, PodRequest
from suanli.scheduling.gorand import PlacementRng
from suanli.scheduling.placement.fgd import TIE_RANGE, Fgd, TypicalPods


class FgdPlus(Fgd):
    """FGD, tie-broken towards tight GPUs, busy nodes and (CPU pods) GPU-poor nodes."""

    name = "fgdplus"

    def __init__(self, typical: TypicalPods) -> None:
        super().__init__(typical, tight_gpu=True)

    def choose(
        self, state: ClusterState, pod: PodRequest, feasible: BoolArray, rng: PlacementRng
    ) -> int:
        scores = self.scores(state, pod, feasible)
        top = scores == scores.max()
        if pod.gpu_milli <= 0:
            prefer = -state.gpu_total_left
        elif pod.is_sharing:
            prefer = np.where(state.free_gpus == state.gpu_count, 0, 1)
        else:  # whole-GPU pods keep FGD's order
            return int(np.argmax(scores))
        return int(np.argmax(np.where(top, prefer, np.iinfo(np.int64).min)))

    def tie_prefer(
        self, state: ClusterState, milli: IntArray, num: IntArray, nodes: IntArray
    ) -> IntArray:
        """:meth:`choose`'s preference as a key: CPU-only pods the least idle GPU milli, sharing
        pods a node with a GPU in use, whole-GPU pods none (FGD's order)."""
        cpu_only = milli <= 0
        sharing = (num == 1) & (milli > 0) & (milli < GPU_MILLI)
        busy = (state.free_gpus[nodes] != state.gpu_count[nodes]).astype(np.int64)
        least_idle = TIE_RANGE - 1 - state.gpu_total_left[nodes]
        return np.where(cpu_only, least_idle, np.where(sharing, busy, 0))
