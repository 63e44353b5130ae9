"""The injected clock. Domain code never calls ``datetime.now()``; it receives a :class:`Clock`.

All datetimes are timezone-aware UTC. ``SimClock`` is advanced explicitly by its owner
(the simulator or a test).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from suanli.core.errors import ValidationError


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SimClock:
    """A clock that only moves when told to. Starts at ``start`` (UTC)."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2024, 1, 1, tzinfo=UTC)
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        if delta < timedelta(0):
            raise ValueError("a SimClock cannot go backwards")
        self._now += delta
        return self._now

    def set(self, when: datetime) -> None:
        when = ensure_utc(when)
        if when < self._now:
            raise ValueError("a SimClock cannot go backwards")
        self._now = when


def ensure_utc(when: datetime) -> datetime:
    """Return ``when`` as an aware UTC datetime; naive values are taken to be UTC.

    A time whose UTC instant falls outside years 1-9999 (``0001-01-01T00:00:00+01:00``) is
    ``input.datetime_out_of_range``, not an OverflowError.
    """
    if when.tzinfo is None:
        return when.replace(tzinfo=UTC)
    try:
        return when.astimezone(UTC)
    except OverflowError:
        raise ValidationError(
            "input.datetime_out_of_range",
            f"{when.isoformat()} is outside years 1-9999 in UTC",
            {"datetime": "years 1-9999 in UTC"},
        ) from None
