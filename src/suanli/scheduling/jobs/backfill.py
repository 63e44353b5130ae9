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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

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
    """Shadow time, the head's placement then, and free GPUs per node at that time."""

    job: int
    shadow: float
    placement: Placement | None
    free_at_shadow: IntArray

    def allows(self, now: float, est_duration: float, placement: Placement) -> bool:
        """May a job with this placement and estimate start now without delaying the head?"""
        if now + est_duration <= self.shadow:
            return True
        held = dict(self.placement or ())
        return all(int(self.free_at_shadow[n]) - held.get(n, 0) >= c for n, c in placement)

    def take(self, now: float, est_duration: float, placement: Placement) -> None:
        """Record that a backfilled job still holds its GPUs at the shadow time."""
        if now + est_duration > self.shadow:
            for n, c in placement:
                self.free_at_shadow[n] -= c


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
) -> Reservation:
    """Walk estimated ends until ``gpus`` can be placed; ``shadow = inf`` if never."""
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
                return Reservation(
                    job, end, place(scratch, leaf, gpus, strategy, single_node), scratch
                )
            continue
        if total >= gpus:
            placement = place(scratch, leaf, gpus, strategy, single_node)
            if placement is not None:
                return Reservation(job, end, placement, scratch)
    return Reservation(job, math.inf, None, scratch)
