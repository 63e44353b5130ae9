"""Fragmentation Gradient Descent (FGD): place each pod where it grows fragmentation least.

Owns: :class:`TypicalPods` (the target workload: pod shapes covering 95% of the trace's
popularity), :class:`FragModel` (a node's fragmented GPU milli against those typical pods, scalar
with a memo and vectorised over many node states) and :class:`Fgd` (the policy).

Fragmentation of a node: for each typical pod m with probability p_m, the node's idle GPU milli
``T`` (or, when m fits, the milli of GPUs too small for m) is put into one of seven bins; the frag
is the sum of all bins except "satisfied" (Q3). The float summation order (per bin, typical pods
in order, then the bins in index order) is part of the definition: an unchanged node must give a
bit-identical before/after pair, which scores exactly 50.

Score of a node for a pod: ``trunc(100 · sigmoid((frag_before − frag_after) / 1000))``; for a
sharing pod the best GPU of the node (first index on ties) decides. Scores for a pod shape are
cached per node and recomputed only for nodes whose ``version`` changed.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from suanli.scheduling.cluster import (
    GPU_MILLI,
    BoolArray,
    ClusterState,
    FloatArray,
    IntArray,
    PodRequest,
    PodTable,
    spec_models,
)
from suanli.scheduling.gorand import PlacementRng

FRAG_BINS = (0, 1, 3, 4, 5, 6)  # every bin but Q3 (2), summed in this order
DEDUP_MIN_NODES = 256
"""Below this many nodes to score, :meth:`Fgd.scores` does not look for identical node states."""
TIE_RANGE = 1 << 32
"""Upper bound (exclusive) of :meth:`Fgd.tie_prefer`; scores are multiplied by it to rank."""


@dataclass(frozen=True)
class TypicalPods:
    """Pod shapes (cpu, per-GPU milli, GPU count, spec) and their renormalised probabilities."""

    cpu: IntArray
    milli: IntArray
    num: IntArray
    spec: tuple[str, ...]
    prob: FloatArray

    def __len__(self) -> int:
        return len(self.spec)

    @classmethod
    def from_pods(cls, pods: PodTable, threshold: float = 0.95) -> TypicalPods:
        """The most popular shapes of the (untuned) trace until they cover ``threshold``."""
        n = len(pods)
        counts = Counter(
            zip(
                pods.cpu_milli.tolist(),
                pods.gpu_milli.tolist(),
                np.where(pods.gpu_milli > 0, pods.num_gpu, 0).tolist(),
                pods.gpu_spec,
                strict=True,
            )
        )
        ranked = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        chosen: list[tuple[tuple[int, int, int, str], int]] = []
        cum = 0
        for shape, count in ranked:
            chosen.append((shape, count))
            cum += count
            if cum >= threshold * n:
                break
        prob = [(count / n) / (cum / n) for _, count in chosen]
        return cls(
            cpu=np.array([s[0] for s, _ in chosen], dtype=np.int64),
            milli=np.array([s[1] for s, _ in chosen], dtype=np.int64),
            num=np.array([s[2] for s, _ in chosen], dtype=np.int64),
            spec=tuple(s[3] for s, _ in chosen),
            prob=np.array(prob, dtype=np.float64),
        )


@dataclass
class FragModel:
    """Fragmented GPU milli of node states against :class:`TypicalPods` on one cluster's models."""

    typical: TypicalPods
    model_names: tuple[str, ...]
    access: BoolArray = field(init=False)  # (models, M): may typical pod m use the model
    _cpu_cuts: list[int] = field(init=False)
    _thresholds: IntArray = field(init=False)
    _col: IntArray = field(init=False)
    _memo: dict[tuple[int, int, tuple[int, ...]], float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        t = self.typical
        self.access = np.array(
            [
                [not spec_models(s) or name in spec_models(s) for s in t.spec]
                for name in self.model_names
            ],
            dtype=np.bool_,
        ).reshape(len(self.model_names), len(t))
        self._cpu_cuts = sorted(set(t.cpu.tolist()))
        self._thresholds = np.unique(t.milli)
        self._col = np.searchsorted(self._thresholds, t.milli)

    # -- scalar, memoised --------------------------------------------------------------------
    def node_frag(self, cpu_left: int, lefts: list[int], model: int) -> float:
        """Frag of one node. Depends on cpu only through the typical pods' CPU cut points."""
        key = (bisect.bisect_right(self._cpu_cuts, cpu_left), model, tuple(sorted(lefts)))
        value = self._memo.get(key)
        if value is None:
            value = self._scalar_frag(cpu_left, lefts, model)
            self._memo[key] = value
        return value

    def _scalar_frag(self, cpu_left: int, lefts: list[int], model: int) -> float:
        t = self.typical
        bins = [0.0] * 7
        total = sum(lefts)
        access = self.access[model].tolist()
        for m, (cpu, milli, num, p) in enumerate(
            zip(t.cpu.tolist(), t.milli.tolist(), t.num.tolist(), t.prob.tolist(), strict=True)
        ):
            cpu_ok = cpu_left >= cpu
            if milli == 0:
                bins[4 if cpu_ok else 5] += p * total
            elif not access[m]:
                bins[6] += p * total
            elif sum(1 for x in lefts if x >= milli) >= num:
                if cpu_ok:
                    bins[1] += p * sum(x for x in lefts if x < milli)
                else:
                    bins[3] += p * total
            else:
                bins[1 if cpu_ok else 0] += p * total
        out = 0.0
        for b in FRAG_BINS:
            out += bins[b]
        return out

    # -- vectorised ---------------------------------------------------------------------------
    def frag(self, cpu_left: IntArray, gpu_left: IntArray, model: IntArray) -> FloatArray:
        """Frag of many node states at once: rows of ``cpu_left``, ``gpu_left`` and ``model``.
        Bit-identical to :meth:`node_frag`."""
        t = self.typical
        total = gpu_left.sum(axis=1)
        g = gpu_left[:, :, None]
        thr = self._thresholds[None, None, :]
        fit = (g >= thr).sum(axis=1)[:, self._col]
        small = np.where(g < thr, g, 0).sum(axis=1)[:, self._col]
        cpu_ok = cpu_left[:, None] >= t.cpu[None, :]
        is_cpu = (t.milli == 0)[None, :]
        access = self.access[model]
        enough = fit >= t.num[None, :]
        binidx = np.where(
            is_cpu,
            np.where(cpu_ok, 4, 5),
            np.where(~access, 6, np.where(enough, np.where(cpu_ok, 1, 3), np.where(cpu_ok, 1, 0))),
        )
        amount = np.where(~is_cpu & access & enough & cpu_ok, small, total[:, None])
        value = t.prob[None, :] * amount
        out = np.zeros(cpu_left.shape[0], dtype=np.float64)
        for b in FRAG_BINS:  # sequential sums (cumsum), never numpy's pairwise reduction
            out = out + np.cumsum(np.where(binidx == b, value, 0.0), axis=1)[:, -1]
        return out


def sigmoid_score(before: FloatArray, after: FloatArray, scale: float = 1000.0) -> IntArray:
    """``trunc(100 · sigmoid((before − after) / scale))``; the paper's scale is 1000 milli."""
    x = (before - after) / scale
    return np.trunc(100.0 * (1.0 / (1.0 + np.exp(-x)))).astype(np.int64)


def first_of_value(gpus: IntArray) -> BoolArray:
    """Per row of ``gpus``: is each column the first one holding its value. Placing a sharing pod
    on two GPUs with the same milli left gives the same node state, so only the first needs a
    score; FGD's tie-breaks (lowest index, or least room then lowest index) pick it anyway."""
    width = gpus.shape[-1]
    earlier = np.tri(width, width, -1, dtype=np.bool_)  # [j, k]: k < j
    dup: BoolArray = ((gpus[..., :, None] == gpus[..., None, :]) & earlier).any(axis=-1)
    return ~dup


class Fgd:
    """FGD: the node (and for sharing pods the GPU) whose frag grows least.

    Scores are cached per pod shape and node in ``(shapes, nodes)`` matrices, stamped with the
    node's ``version``: a decision rescoring only the nodes that changed since the shape was last
    scored (online, :meth:`rescore_node` keeps every shape current after each bind)."""

    name = "fgd"

    def __init__(
        self, typical: TypicalPods, tight_gpu: bool = False, scale: float = 1000.0
    ) -> None:
        """``tight_gpu``: among a node's best GPUs take the one with least room left (the paper
        takes the lowest index); ``scale``: the sigmoid's scale in milli (paper: 1000)."""
        self.typical = typical
        self.tight_gpu = tight_gpu
        self.scale = scale
        self._model: FragModel | None = None
        self._before: FloatArray = np.zeros(0)
        self._before_stamp: IntArray = np.zeros(0, dtype=np.int64)
        self._index: dict[tuple[int, int, int, str], int] = {}
        self._score: IntArray = np.zeros((0, 0), dtype=np.int64)
        self._gpu: IntArray = np.zeros((0, 0), dtype=np.int64)
        self._stamp: IntArray = np.zeros((0, 0), dtype=np.int64)
        self._params: IntArray = np.zeros((0, 3), dtype=np.int64)  # cpu, milli, num per shape

    def frag_model(self, state: ClusterState) -> FragModel:
        if self._model is None or self._model.model_names != state.model_names:
            self._model = FragModel(self.typical, state.model_names)
            self._before = np.zeros(state.n_nodes)
            self._before_stamp = np.full(state.n_nodes, -1, dtype=np.int64)
            self._index.clear()
            self._params = np.zeros((0, 3), dtype=np.int64)
        return self._model

    def _refresh_before(self, state: ClusterState, model: FragModel) -> None:
        stale = np.flatnonzero(self._before_stamp != state.version)
        if stale.size:
            self._before[stale] = model.frag(
                state.cpu_left[stale], state.gpu_left[stale], state.model_code[stale]
            )
            self._before_stamp[stale] = state.version[stale]

    def node_scores(
        self, state: ClusterState, pod: PodRequest, nodes: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Scores of ``nodes`` for ``pod`` and, for sharing pods, the GPU each would use."""
        model = self.frag_model(state)
        self._refresh_before(state, model)
        before = self._before[nodes]
        cpu_after = state.cpu_left[nodes] - pod.cpu_milli
        gpus = state.gpu_left[nodes]
        codes = state.model_code[nodes]
        if pod.is_sharing:
            rows, cols = np.nonzero((gpus >= pod.gpu_milli) & first_of_value(gpus))
            after_gpu = gpus[rows]
            after_gpu[np.arange(rows.size), cols] -= pod.gpu_milli
            after = model.frag(cpu_after[rows], after_gpu, codes[rows])
            cand = sigmoid_score(before[rows], after, self.scale)
            starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
            best = np.maximum.reduceat(cand, starts)  # every node has a fitting GPU (feasible)
            hits = np.flatnonzero(cand == np.repeat(best, np.diff(np.r_[starts, rows.size])))
            h_rows, h_cols = rows[hits], cols[hits]
            if self.tight_gpu:  # among the best GPUs, the one with the least room left
                order = np.lexsort((h_cols, gpus[h_rows, h_cols], h_rows))
                h_rows, h_cols = h_rows[order], h_cols[order]
            _, first = np.unique(h_rows, return_index=True)  # first fitting GPU at the max
            first_per_row = np.full(nodes.size, -1, dtype=np.int64)
            first_per_row[h_rows[first]] = h_cols[first]
            return best.astype(np.int64), first_per_row
        if pod.gpu_milli > 0:  # whole GPUs: the lowest-index fully free ones
            free = gpus == GPU_MILLI
            take = free & (np.cumsum(free, axis=1) <= pod.num_gpu)
            gpus = gpus - GPU_MILLI * take
        after = model.frag(cpu_after, gpus, codes)
        return sigmoid_score(before, after, self.scale), np.full(nodes.size, -1, dtype=np.int64)

    def _shape_row(self, state: ClusterState, pod: PodRequest) -> int:
        """The cache row of ``pod``'s shape (added, unscored, on first sight)."""
        self.frag_model(state)
        row = self._index.get(pod.shape)
        if row is None:
            row = len(self._index)
            n = state.n_nodes
            if row >= self._score.shape[0] or self._score.shape[1] != n:
                cap = max(8, 2 * row)
                grown = [np.zeros((cap, n), dtype=np.int64) for _ in range(3)]
                for new, old in zip(grown, (self._score, self._gpu, self._stamp), strict=True):
                    if old.shape[1] == n:
                        new[: old.shape[0]] = old
                self._score, self._gpu, self._stamp = grown
            self._stamp[row] = -1
            self._gpu[row] = -1
            self._index[pod.shape] = row
            milli = pod.gpu_milli if pod.num_gpu > 0 else 0
            num = pod.num_gpu if pod.gpu_milli > 0 else 0
            self._params = np.vstack([self._params, [[pod.cpu_milli, milli, num]]])
        return row

    def scores(self, state: ClusterState, pod: PodRequest, feasible: BoolArray) -> IntArray:
        """FGD score of every node; −1 where infeasible. Only changed nodes are recomputed."""
        k = self._shape_row(state, pod)
        stale = np.flatnonzero(feasible & (self._stamp[k] != state.version))
        if stale.size:
            score, gpu = self._distinct_node_scores(state, pod, stale)
            self._score[k, stale] = score
            self._gpu[k, stale] = gpu
            self._stamp[k, stale] = state.version[stale]
        return np.where(feasible, self._score[k], -1)

    def _distinct_node_scores(
        self, state: ClusterState, pod: PodRequest, nodes: IntArray
    ) -> tuple[IntArray, IntArray]:
        """:meth:`node_scores`, computed once per distinct node state (free CPU, model, milli left
        per GPU) and copied to the nodes in the same state: a large cluster seeing a shape for the
        first time has far fewer states than nodes (idle nodes of one type are all alike)."""
        if nodes.size < DEDUP_MIN_NODES:
            return self.node_scores(state, pod, nodes)
        rows = np.column_stack(
            (state.cpu_left[nodes], state.model_code[nodes], state.gpu_left[nodes])
        )
        # group identical rows: a stable lexsort (np.unique(axis=0) sorts void keys, ~50x slower)
        order = np.lexsort(rows.T[::-1])
        ranked = rows[order]
        starts = np.r_[True, (ranked[1:] != ranked[:-1]).any(axis=1)]
        inverse = np.empty(nodes.size, dtype=np.int64)
        inverse[order] = np.cumsum(starts) - 1
        first = order[starts]  # stable: each group's lowest position
        if first.size > nodes.size // 2:
            return self.node_scores(state, pod, nodes)
        score, gpu = self.node_scores(state, pod, nodes[np.sort(first)])
        order = np.argsort(first)  # unique groups in node order -> position in ``score``
        pos = np.empty_like(order)
        pos[order] = np.arange(order.size)
        where = pos[inverse]
        return score[where], gpu[where]

    def rescore_node(self, state: ClusterState, node: int) -> None:
        """Bring ``node``'s score in every cached pod shape up to date, in one batched frag call.

        For online use: called after each bind, so that the next decision finds no stale node
        (a rare shape would otherwise rescore every node changed since it was last seen). Gives
        the same scores and GPUs as :meth:`node_scores` (frag is row-independent); vectorised
        over shapes x the node's distinct GPU lefts, with no Python loop over shapes."""
        n_shapes = len(self._index)
        if not n_shapes:
            return
        model = self.frag_model(state)
        self._refresh_before(state, model)
        lefts = state.gpu_left[node]
        cpu_s, milli_s, num_s = self._params[:n_shapes].T
        sharing = (num_s == 1) & (milli_s > 0) & (milli_s < GPU_MILLI)
        # sharing shapes: one row per (shape, first GPU of each distinct milli left that fits)
        cols = np.flatnonzero(first_of_value(lefts))
        fits = sharing[:, None] & (lefts[cols][None, :] >= milli_s[:, None])
        s_idx, c_idx = np.nonzero(fits)
        share_after = np.repeat(lefts[None, :], s_idx.size, axis=0)
        share_after[np.arange(s_idx.size), cols[c_idx]] -= milli_s[s_idx]
        # whole-GPU shapes take the lowest-index free GPUs; CPU-only shapes leave the GPUs as is
        other = np.flatnonzero(~sharing)
        free = lefts == GPU_MILLI
        take = free[None, :] & (np.cumsum(free)[None, :] <= num_s[other, None])
        other_after = lefts[None, :] - GPU_MILLI * (take & (milli_s[other, None] > 0))
        shape_of_row = np.concatenate([s_idx, other])
        frag_after = model.frag(
            state.cpu_left[node] - cpu_s[shape_of_row],
            np.vstack([share_after, other_after]),
            np.full(shape_of_row.size, state.model_code[node], dtype=np.int64),
        )
        cand = sigmoid_score(np.full(frag_after.size, self._before[node]), frag_after, self.scale)
        version = state.version[node]
        if other.size:
            self._score[other, node] = cand[s_idx.size :]
            self._gpu[other, node] = -1
            self._stamp[other, node] = version
        if s_idx.size:  # rows are grouped by shape, GPUs ascending within a shape
            share_cand = cand[: s_idx.size]
            starts = np.flatnonzero(np.r_[True, s_idx[1:] != s_idx[:-1]])
            best = np.maximum.reduceat(share_cand, starts)
            hits = np.flatnonzero(share_cand == np.repeat(best, np.diff(np.r_[starts, s_idx.size])))
            h_shape, h_col = s_idx[hits], cols[c_idx[hits]]
            if self.tight_gpu:
                order = np.lexsort((h_col, lefts[h_col], h_shape))
                h_shape, h_col = h_shape[order], h_col[order]
            shapes, first = np.unique(h_shape, return_index=True)
            self._score[shapes, node] = best
            self._gpu[shapes, node] = h_col[first]
            self._stamp[shapes, node] = version

    def choose(
        self, state: ClusterState, pod: PodRequest, feasible: BoolArray, rng: PlacementRng
    ) -> int:
        return int(np.argmax(self.scores(state, pod, feasible)))

    def tie_prefer(
        self, state: ClusterState, milli: IntArray, num: IntArray, nodes: IntArray
    ) -> IntArray:
        """Secondary key among top-scoring nodes, in ``0 .. TIE_RANGE`` (higher wins, then the
        lowest index), broadcast over shape parameters ``milli``/``num`` and ``nodes``. FGD has
        none: the node priority alone breaks ties. :class:`~.decider.FragDecider` ranks nodes by
        ``score * TIE_RANGE + tie_prefer``, which must give the same node as :meth:`choose`."""
        return np.zeros(np.broadcast_shapes(milli.shape, nodes.shape), dtype=np.int64)

    def shape_scores(self, state: ClusterState, shapes: IntArray, node: int) -> IntArray:
        """Cached score of ``node`` for the shape rows ``shapes`` (current after
        :meth:`rescore_node`)."""
        out: IntArray = self._score[shapes, node]
        return out

    def shape_params(self) -> IntArray:
        """``(shapes, 3)``: cpu, per-GPU milli and GPU count of each cached shape, by row."""
        return self._params[: len(self._index)]

    def shape_row(self, state: ClusterState, pod: PodRequest) -> int:
        """The cache row of ``pod``'s shape (public form of the score cache's index)."""
        return self._shape_row(state, pod)

    def select_gpus(
        self, state: ClusterState, node: int, pod: PodRequest, rng: PlacementRng
    ) -> tuple[int, ...]:
        if pod.gpu_milli <= 0:
            return ()
        if not pod.is_sharing:
            row = state.gpu_left[node].tolist()
            return tuple(g for g, left in enumerate(row) if left == GPU_MILLI)[: pod.num_gpu]
        k = self._shape_row(state, pod)
        if self._stamp[k, node] != state.version[node]:
            _, gpu = self.node_scores(state, pod, np.array([node], dtype=np.int64))
            return (int(gpu[0]),)
        return (int(self._gpu[k, node]),)
