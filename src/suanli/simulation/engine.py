"""The discrete-event core: a heap of events keyed by ``(time, priority, seq)``.

Time is float seconds since the start of the simulation. At equal times, lower ``priority``
runs first; at equal time and priority, the event pushed first runs first (``seq``), so a run
is bit-for-bit repeatable. The engine owns the simulated time and hands out a
:class:`~suanli.core.clock.Clock` view of it (``epoch + now``) for code that wants datetimes.
No I/O, no wall clock, no global random state: randomness comes from the seeded
``numpy.random.Generator`` the owner passes in.
"""

from __future__ import annotations

import heapq
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from suanli.core.clock import ensure_utc

Event = tuple[float, int, int, int, Any]


class EngineClock:
    """A :class:`~suanli.core.clock.Clock` that reads the engine's simulated time."""

    def __init__(self, engine: EventQueue, epoch: datetime) -> None:
        self._engine = engine
        self._epoch = ensure_utc(epoch)

    def now(self) -> datetime:
        return self._epoch + timedelta(seconds=self._engine.now)


class EventQueue:
    """Min-heap of ``(time, priority, seq, kind, payload)``; ``now`` only moves forward."""

    __slots__ = ("_heap", "_seq", "now", "rng")

    def __init__(self, seed: int | np.random.Generator = 0) -> None:
        self._heap: list[Event] = []
        self._seq = 0
        self.now = 0.0
        self.rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, time: float, priority: int, kind: int, payload: Any = None) -> None:
        if time < self.now:
            raise ValueError(f"event at {time} is in the past (now {self.now})")
        self._seq += 1
        heapq.heappush(self._heap, (time, priority, self._seq, kind, payload))

    def peek(self) -> tuple[float, int]:
        """``(time, priority)`` of the next event, ``(inf, 0)`` when empty."""
        if not self._heap:
            return (float("inf"), 0)
        head = self._heap[0]
        return (head[0], head[1])

    def pop(self) -> Event:
        event = heapq.heappop(self._heap)
        self.now = event[0]
        return event

    def advance(self, time: float) -> None:
        if time < self.now:
            raise ValueError("simulated time cannot go backwards")
        self.now = time

    def clock(self, epoch: datetime | None = None) -> EngineClock:
        return EngineClock(self, epoch or datetime(2024, 1, 1, tzinfo=UTC))
