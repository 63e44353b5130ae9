"""FGD+ (ours): FGD with a tighter GPU choice and idle nodes kept whole on ties.

Owns: :class:`FgdPlus`. Two changes to FGD, both only where FGD is indifferent:

1. **GPU inside the node.** Among the GPUs that reach the node's best FGD score, a sharing pod
   takes the one with the least room left (FGD takes the lowest index). Small leftovers get
   filled first, so fewer GPUs end up partly used.
2. **Ties between nodes.** FGD's integer score ties often (an unchanged frag scores exactly 50).
   Among the top-scoring nodes FGD+ prefers a node with a GPU in use over one whose GPUs are all
   free, then the run's node priority as before. Idle GPU nodes stay whole for multi-GPU pods.

Everything else (typical pods, frag, score, filter) is FGD's. See docs/placement.md for the
numbers against FGD on every trace.
"""

from __future__ import annotations

import numpy as np

from suanli.scheduling.cluster import BoolArray, ClusterState, PodRequest
from suanli.scheduling.gorand import PlacementRng
from suanli.scheduling.placement.fgd import Fgd, TypicalPods


class FgdPlus(Fgd):
    """FGD, tie-broken towards busy nodes and tight GPUs."""

    name = "fgdplus"

    def __init__(self, typical: TypicalPods) -> None:
        super().__init__(typical, tight_gpu=True)

    def choose(
        self, state: ClusterState, pod: PodRequest, feasible: BoolArray, rng: PlacementRng
    ) -> int:
        scores = self.scores(state, pod, feasible)
        top = scores == scores.max()
        gpus_idle = state.free_gpus == state.gpu_count
        return int(np.argmax(np.where(top, np.where(gpus_idle, 0, 1), -1)))
