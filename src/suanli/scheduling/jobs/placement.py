"""Gang placement: where a job's GPUs go, or ``None`` when it does not fit right now.

Pure functions over a vector ``free`` (free GPUs per node; unusable nodes already count 0) and
``leaf`` (network leaf per node). A placement is a tuple of ``(node, gpus)`` pairs sorted by
node whose counts sum to the job's GPUs — all or nothing, never partial.

Strategies:

* ``consolidated`` — fewest nodes; the whole job inside one leaf when any leaf can hold it
  (the leaf needing the fewest nodes, then the tightest leaf). The Helios/Philly protocol.
* ``best_fit`` — whole free nodes first, then the remainder on the node that it fills most
  tightly, leaves ignored: keeps big holes for big jobs.
* ``spread`` — the emptiest nodes, one leaf after another, to spread heat and failure risk.

A job that fits inside one node (``gpus <= single_node``, normally 8) always stays on one node:
NVLink inside a node, no cross-node traffic. Among the nodes that can hold it, consolidated and
best-fit take the one with the fewest free GPUs left, spread the one with the most.

With ``whole_nodes`` a job above one node sees only the nodes whose ``single_node`` GPUs are all
free (:func:`whole_free`), so every node it gets carries the same GPU count.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

from suanli.scheduling.jobs.model import IntArray

Placement = tuple[tuple[int, int], ...]

_BIG = np.int64(1 << 40)


class Strategy(StrEnum):
    CONSOLIDATED = "consolidated"
    BEST_FIT = "best_fit"
    SPREAD = "spread"


def place(
    free: IntArray,
    leaf: IntArray,
    gpus: int,
    strategy: Strategy = Strategy.CONSOLIDATED,
    single_node: int = 8,
    whole_nodes: bool = False,
) -> Placement | None:
    """Return a placement of ``gpus`` GPUs on ``free`` or ``None``. Does not modify ``free``."""
    if gpus <= single_node:
        return _single(free, gpus, strategy)
    if whole_nodes:
        free = whole_free(free, single_node)
    if int(free.sum()) < gpus:
        return None
    if strategy is Strategy.CONSOLIDATED:
        return _consolidated(free, leaf, gpus)
    if strategy is Strategy.BEST_FIT:
        return _best_fit(free, gpus)
    return _spread(free, leaf, gpus)


def whole_free(free: IntArray, single_node: int) -> IntArray:
    """``free`` with every node that is not wholly free (``single_node`` GPUs) counted as 0."""
    return np.where(free == single_node, free, 0)


def _single(free: IntArray, gpus: int, strategy: Strategy) -> Placement | None:
    if strategy is Strategy.SPREAD:
        node = int(np.argmax(free))
        return ((node, gpus),) if int(free[node]) >= gpus else None
    # Leftover after placing, read as unsigned: a node that is too small wraps to a huge
    # number, so one argmin finds the tightest node that fits (lowest index on ties).
    leftover = (free - gpus).view(np.uint64)
    node = int(np.argmin(leftover))
    return ((node, gpus),) if int(free[node]) >= gpus else None


def _take_in_order(free: IntArray, order: IntArray, gpus: int) -> Placement | None:
    """Greedy: walk ``order``, take each node's free GPUs until ``gpus`` are covered."""
    taken = free[order]
    cum = np.cumsum(taken)
    k = int(np.searchsorted(cum, gpus))
    if k >= cum.shape[0]:
        return None
    nodes = order[: k + 1]
    counts = taken[: k + 1].copy()
    counts[k] -= int(cum[k]) - gpus
    pairs = sorted((int(n), int(c)) for n, c in zip(nodes, counts, strict=True) if c > 0)
    return tuple(pairs)


def _consolidated(free: IntArray, leaf: IntArray, gpus: int) -> Placement | None:
    nodes = np.arange(free.shape[0], dtype=np.int64)
    order = np.lexsort((nodes, -free, leaf))
    f_sorted = free[order]
    l_sorted = leaf[order]
    cum = np.cumsum(f_sorted)
    starts = np.flatnonzero(np.r_[True, l_sorted[1:] != l_sorted[:-1]])
    base = np.r_[0, cum[starts[1:] - 1]] if starts.shape[0] > 1 else np.zeros(1, np.int64)
    seg = np.repeat(np.arange(starts.shape[0]), np.diff(np.r_[starts, order.shape[0]]))
    within = cum - base[seg]
    hit = np.flatnonzero(within >= gpus)
    if hit.shape[0]:
        seg_hit, first = np.unique(seg[hit], return_index=True)
        pos = hit[first]
        needed = pos - starts[seg_hit] + 1
        seg_end = np.r_[starts[1:], order.shape[0]] - 1
        totals = within[seg_end[seg_hit]]
        best = int(np.lexsort((l_sorted[starts[seg_hit]], totals, needed))[0])
        s = int(starts[seg_hit[best]])
        return _take_in_order(free, order[s : int(pos[best]) + 1], gpus)
    glob = np.lexsort((nodes, leaf, -free))
    return _take_in_order(free, glob, gpus)


def _best_fit(free: IntArray, gpus: int) -> Placement | None:
    nodes = np.arange(free.shape[0], dtype=np.int64)
    order = np.lexsort((nodes, -free))
    chosen: list[tuple[int, int]] = []
    left = gpus
    used = np.zeros(free.shape[0], dtype=bool)
    for node in order.tolist():
        f = int(free[node])
        if f == 0 or f > left:
            break
        chosen.append((node, f))
        used[node] = True
        left -= f
        if left == 0:
            return tuple(sorted(chosen))
    while left > 0:
        score = np.where((free >= left) & ~used, free, _BIG)
        node = int(np.argmin(score))
        if int(score[node]) < _BIG:
            chosen.append((node, left))
            return tuple(sorted(chosen))
        rest = np.where(~used & (free > 0), free, -1)
        node = int(np.argmax(rest))
        if int(rest[node]) <= 0:
            return None
        take = min(int(rest[node]), left)
        chosen.append((node, take))
        used[node] = True
        left -= take
    return tuple(sorted(chosen))


def _spread(free: IntArray, leaf: IntArray, gpus: int) -> Placement | None:
    nodes = np.arange(free.shape[0], dtype=np.int64)
    by_leaf = np.lexsort((nodes, -free, leaf))
    l_sorted = leaf[by_leaf]
    starts = np.flatnonzero(np.r_[True, l_sorted[1:] != l_sorted[:-1]])
    seg = np.repeat(starts, np.diff(np.r_[starts, by_leaf.shape[0]]))
    rank_in_leaf = np.empty_like(by_leaf)
    rank_in_leaf[by_leaf] = np.arange(by_leaf.shape[0]) - seg
    order = np.lexsort((nodes, -free, rank_in_leaf))
    order = order[free[order] > 0]
    return _take_in_order(free, order, gpus)


def apply(free: IntArray, placement: Placement, sign: int = -1) -> None:
    """Subtract (``sign=-1``) or give back (``+1``) a placement's GPUs on ``free`` in place."""
    for node, count in placement:
        free[node] += sign * count
