"""The event heap: (time, priority, seq) order, no time travel, a Clock view of sim time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from suanli.simulation.engine import EventQueue


def test_events_leave_in_time_priority_then_push_order() -> None:
    ev = EventQueue(seed=1)
    ev.push(5.0, 1, 0, "b")
    ev.push(5.0, 0, 0, "a")
    ev.push(1.0, 9, 0, "first")
    ev.push(5.0, 1, 0, "c")
    order = [ev.pop()[4] for _ in range(4)]
    assert order == ["first", "a", "b", "c"]
    assert ev.now == 5.0
    assert ev.peek() == (float("inf"), 0)


def test_time_never_goes_backwards() -> None:
    ev = EventQueue()
    ev.advance(10.0)
    with pytest.raises(ValueError):
        ev.push(9.0, 0, 0)
    with pytest.raises(ValueError):
        ev.advance(5.0)


def test_clock_view_and_seeded_rng() -> None:
    epoch = datetime(2025, 1, 1, tzinfo=UTC)
    ev = EventQueue(seed=42)
    clock = ev.clock(epoch)
    ev.advance(90.0)
    assert clock.now() == epoch + timedelta(seconds=90)
    assert EventQueue(seed=42).rng.random() == EventQueue(seed=42).rng.random()
