"""Pending jobs, kept in *lanes* so that a scheduling cycle only ever looks at lane heads.

A lane holds the pending jobs of one ``(tenant, gpus)`` pair (tenant 0 for every job when the
policy does not order by tenant), sorted by the policy's *rank* (lower runs first; ties by job
id). Every policy here has ranks that do not change while a job waits (arrival time, oracle
duration, remaining time, LAS level), so a lane is sorted once on insertion.

Why lanes: if the head of a lane cannot be placed in a cycle, no other job of that lane can
either (same GPU count on the same free vector, same tenant quota, worse rank for preemption),
so a greedy skip-over pass costs O(admitted × lanes), not O(queue).

Single writer: the driver (simulator or live service) owns a :class:`PendingQueues`; the
cycle function only reads it through :meth:`lanes` and :meth:`lane`.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

LaneKey = tuple[int, int]
Item = tuple[float, int]


class PendingQueues:
    """Mutable set of pending jobs, sorted per lane by rank."""

    def __init__(self, by_tenant: bool = False) -> None:
        self.by_tenant = by_tenant
        self._lanes: dict[LaneKey, list[Item]] = {}
        self._where: dict[int, tuple[LaneKey, float]] = {}

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, job: object) -> bool:
        return job in self._where

    def push(self, job: int, tenant: int, gpus: int, rank: float) -> None:
        if job in self._where:
            raise ValueError(f"job {job} is already pending")
        key = (tenant if self.by_tenant else 0, gpus)
        lane = self._lanes.get(key)
        item = (rank, job)
        if lane is None:
            self._lanes[key] = [item]
        elif item >= lane[-1]:
            lane.append(item)
        else:
            insort(lane, item)
        self._where[job] = (key, rank)

    def remove(self, job: int) -> None:
        key, rank = self._where.pop(job)
        lane = self._lanes[key]
        pos = bisect_left(lane, (rank, job))
        del lane[pos]
        if not lane:
            del self._lanes[key]

    def lanes(self) -> Iterator[tuple[LaneKey, list[Item]]]:
        """Non-empty lanes. Callers must not mutate the lists."""
        return iter(self._lanes.items())

    def lane(self, key: LaneKey) -> list[Item]:
        return self._lanes.get(key, [])

    def jobs(self) -> Iterator[int]:
        return iter(self._where)

    def rank_of(self, job: int) -> float:
        return self._where[job][1]
