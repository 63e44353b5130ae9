"""An FGD-family decider for one-pod-at-a-time use: a decision is one argmax over a cached rank.

Owns: :class:`FragDecider`. It wraps an FGD-family policy (:class:`~.fgd.Fgd` and subclasses)
and a :class:`ClusterState` it does not own, and keeps, per pod shape seen, a rank of every node:

    rank[shape, node] = score * TIE_RANGE + tie_prefer   if the node fits the shape, else MIN

"fits" is the filter without memory (CPU, GPU model, GPU room); memory is the one part of a
request outside its shape, so it is checked on the chosen node only. Invariant: after
:meth:`bound` for every bind, every rank is current, because a bind changes one node only, and
that node is rescored (policy cache and rank) for every shape in one vectorised pass.

Equivalence with the batch policy (:func:`~.base.decide`): the first node with the highest rank
is the first node with the highest score, and among those the highest tie preference, which is
what each policy's ``choose`` returns; if that node also has the memory, it is the answer on the
smaller, memory-filtered set too. If it lacks the memory, the argmax is taken again over the nodes
that have it (about one decision in five on openb). A single feasible node is the argmax as well. ``tests/unit/scheduling`` replays pod
streams both ways and checks that every placement is equal.
"""

from __future__ import annotations

import numpy as np

from suanli.scheduling.cluster import GPU_MILLI, BoolArray, ClusterState, IntArray, PodRequest
from suanli.scheduling.gorand import PlacementRng
from suanli.scheduling.placement.base import Placement
from suanli.scheduling.placement.fgd import TIE_RANGE, Fgd

MIN_RANK = np.iinfo(np.int64).min


class FragDecider:
    """Cached per-shape node ranks over a live cluster state, for an FGD-family policy."""

    def __init__(self, state: ClusterState, policy: Fgd) -> None:
        self.state, self.policy = state, policy
        self._rank: IntArray = np.zeros((0, state.n_nodes), dtype=np.int64)
        self._access: BoolArray = np.zeros((0, len(state.model_names)), dtype=np.bool_)
        self._ready: set[int] = set()  # rows built by :meth:`_row` (the policy may own more)

    def _row(self, pod: PodRequest) -> int:
        """The shape's rank row, built over every node on first sight (one full scoring)."""
        k = self.policy.shape_row(self.state, pod)
        if k in self._ready:
            return k
        state = self.state
        shape_pod = PodRequest(pod.cpu_milli, 0, pod.num_gpu, pod.gpu_milli, pod.gpu_spec)
        fits = state.feasible(shape_pod)  # memory 0: every node has it
        scores = self.policy.scores(state, shape_pod, fits)
        params = self.policy.shape_params()[k]
        nodes = np.arange(state.n_nodes)
        prefer = self.policy.tie_prefer(state, params[1:2], params[2:3], nodes)
        rank = np.where(fits, scores * TIE_RANGE + prefer, MIN_RANK)
        if k >= self._rank.shape[0]:
            rows = max(k + 1, 2 * self._rank.shape[0])
            grown = np.full((rows, state.n_nodes), MIN_RANK, dtype=np.int64)
            grown[: self._rank.shape[0]] = self._rank
            access = np.zeros((rows, len(state.model_names)), dtype=np.bool_)
            access[: self._access.shape[0]] = self._access
            self._rank, self._access = grown, access
        self._rank[k] = rank
        self._access[k] = state.model_allowed(pod.gpu_spec) if pod.gpu_milli > 0 else True
        self._ready.add(k)
        return k

    def decide(self, pod: PodRequest, rng: PlacementRng) -> Placement | None:
        """Where ``pod`` goes now, as :func:`~.base.decide` would say; changes nothing."""
        k = self._row(pod)
        rank = self._rank[k]
        node = int(np.argmax(rank))
        if rank[node] == MIN_RANK:
            return None
        if self.state.mem_left[node] < pod.memory_mib:  # rank again among nodes with the memory
            rank = np.where(self.state.mem_left >= pod.memory_mib, rank, MIN_RANK)
            node = int(np.argmax(rank))
            if rank[node] == MIN_RANK:
                return None
        return Placement(node, self.policy.select_gpus(self.state, node, pod, rng))

    def bound(self, node: int) -> None:
        """``node`` changed (a pod was bound there): rescore it for every known shape."""
        self.policy.rescore_node(self.state, node)
        n_shapes = min(self._rank.shape[0], len(self.policy.shape_params()))
        if not n_shapes:
            return
        state = self.state
        cpu, milli, num = self.policy.shape_params()[:n_shapes].T
        sharing = num == 1
        room = np.where(
            milli <= 0,
            True,
            np.where(
                sharing & (milli < GPU_MILLI),
                state.max_left[node] >= milli,
                state.free_gpus[node] >= num,
            ),
        )
        access = self._access[:n_shapes, state.model_code[node]]
        fits = (state.cpu_left[node] >= cpu) & room & access
        shapes = np.arange(n_shapes)
        score = self.policy.shape_scores(state, shapes, node)
        prefer = self.policy.tie_prefer(state, milli, num, np.full(n_shapes, node))
        self._rank[:n_shapes, node] = np.where(fits, score * TIE_RANGE + prefer, MIN_RANK)
