"""EASY backfill: a reservation for the blocked head, and a test for jobs that may jump it.

The **shadow time** is the earliest time the blocked head ``H`` could start if running jobs end
at their estimated ends (walked in order from the driver's heap of estimated ends, lazily, so
only the first few are looked at). The head's **reservation** is its placement at that time.
A later job ``B`` may start now (backfill) if it fits now and either ends before the shadow
time or uses, on every node, only GPUs that are spare at the shadow time after the
reservation — so ``H`` never starts later because of ``B`` (when estimates hold).
Pure: nothing here mutates its inputs except the scratch vectors the caller hands over.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from suanli.scheduling.jobs.model import BoolArray, FloatArray, IntArray
from suanli.scheduling.jobs.placement import Placement, Strategy, place


def iter_heap_sorted(heap: Sequence[tuple[float, int]]) -> Iterator[tuple[float, int]]:
    """Items of a binary min-heap in ascending order without modifying it (O(k log k))."""
    n = len(heap)
    if n == 0:
        return
    aux: list[tuple[tuple[float, int], int]] = [(heap[0], 0)]
    while aux:
        item, i = heapq.heappop(aux)
        yield item
        left = 2 * i + 1
        if left < n:
            heapq.heappush(aux, (heap[left], left))
            if left + 1 < n:
                heapq.heappush(aux, (heap[left + 1], left + 1))


@dataclass
class Reservation:
    """Shadow time, the head's placement then, and on each reserved node the GPUs that are
    still spare at the shadow time once the head has its share."""

    job: int
    shadow: float
    placement: Placement | None
    spare: dict[int, int]

    def allows(self, now: float, est_duration: float, placement: Placement) -> bool:
        """May a job with this placement and estimate start now without delaying the head?"""
        if now + est_duration <= self.shadow:
            return True
        return all(self.spare.get(n, c) >= c for n, c in placement)

    def take(self, now: float, est_duration: float, placement: Placement) -> None:
        """Record that a backfilled job still holds its GPUs at the shadow time."""
        if now + est_duration > self.shadow:
            for n, c in placement:
                if n in self.spare:
                    self.spare[n] -= c


def _reservation(
    job: int, shadow: float, placement: Placement | None, at_shadow: IntArray
) -> Reservation:
    spare = {n: int(at_shadow[n]) - c for n, c in placement or ()}
    return Reservation(job, shadow, placement, spare)


def reserve(
    job: int,
    gpus: int,
    free: IntArray,
    leaf: IntArray,
    usable: BoolArray,
    end_heap: Sequence[tuple[float, int]],
    est_end: FloatArray,
    running: Mapping[int, Placement],
    strategy: Strategy = Strategy.CONSOLIDATED,
    single_node: int = 8,
    node_jobs: Sequence[Collection[int]] | None = None,
) -> Reservation:
    """The earliest time ``gpus`` can be placed if running jobs end at their estimates.

    Multi-node heads walk the estimated ends in order. Single-node heads with ``node_jobs``
    (running jobs per node) look only at candidate nodes — the emptiest ones and those of the
    first jobs to end — and take the node that frees up first: on a large fragmented cluster
    the in-order walk may need thousands of ends before one node is empty enough.
    """
    if gpus <= single_node and node_jobs is not None:
        return _reserve_single(job, gpus, free, usable, end_heap, est_end, running, node_jobs)
    scratch = free.copy()
    total = int(scratch.sum())
    for end, other in iter_heap_sorted(end_heap):
        placed = running.get(other)
        if placed is None or est_end[other] != end:
            continue  # stale heap entry: finished or preempted since it was pushed
        touched = []
        for node, count in placed:
            if usable[node]:
                scratch[node] += count
                total += count
                touched.append(node)
        if gpus <= single_node:
            if any(int(scratch[n]) >= gpus for n in touched):
                return _reservation(
                    job, end, place(scratch, leaf, gpus, strategy, single_node), scratch
                )
            continue
        if total >= gpus:
            placement = place(scratch, leaf, gpus, strategy, single_node)
            if placement is not None:
                return _reservation(job, end, placement, scratch)
    return Reservation(job, math.inf, None, {})


CANDIDATE_NODES = 8
CANDIDATE_ENDS = 16


def _reserve_single(
    job: int,
    gpus: int,
    free: IntArray,
    usable: BoolArray,
    end_heap: Sequence[tuple[float, int]],
    est_end: FloatArray,
    running: Mapping[int, Placement],
    node_jobs: Sequence[Collection[int]],
) -> Reservation:
    k = min(CANDIDATE_NODES, free.shape[0])
    candidates = set(np.argpartition(-free, k - 1)[:k].tolist()) if k else set()
    for i, (end, other) in enumerate(iter_heap_sorted(end_heap)):
        if i >= CANDIDATE_ENDS:
            break
        placed = running.get(other)
        if placed is not None and est_end[other] == end:
            candidates.update(n for n, _ in placed)
    best: tuple[float, int, int] | None = None  # (time, node, free GPUs then)
    for node in sorted(candidates):
        if not usable[node]:
            continue
        have = int(free[node])
        ends = sorted(
            (float(est_end[j]), c)
            for j in node_jobs[node]
            for n, c in running.get(j, ())
            if n == node
        )
        t = -math.inf
        for e, c in ends:
            if have >= gpus and e > t:
                break
            have += c  # ends at the same instant as the deciding one come back too
            t = e
        if have < gpus:
            continue
        if best is None or (t, node) < best[:2]:
            best = (t, node, have)
    if best is None:
        return Reservation(job, math.inf, None, {})
    t, node, have = best
    return Reservation(job, t, ((node, gpus),), {node: have - gpus})
