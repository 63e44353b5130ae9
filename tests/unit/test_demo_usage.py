"""The demo cloud pool's usage from the job simulator: deterministic, within capacity, in whole
server-hours."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime

from suanli.core.billing import month_of
from suanli.services.demo.usage import SERVER_HOUR, pool_usage

SEPT = month_of(date(2025, 9, 1))


def test_usage_is_deterministic_and_fits_the_pool() -> None:
    customers = ["pixel", "dawn", "zhipu"]
    a = pool_usage(SEPT, 64, customers, seed=7)
    assert a == pool_usage(SEPT, 64, customers, seed=7)
    assert a != pool_usage(SEPT, 64, customers, seed=8)
    per_day: dict[str, float] = defaultdict(float)
    for r in a:
        seconds = float(r["gpu_seconds"])
        assert seconds > 0 and seconds % SERVER_HOUR == 0
        assert r["customer"] in customers and r["priority_class"] in ("standard", "spot")
        per_day[r["started_at"]] += seconds
    # rounding to whole server-hours adds at most half an hour per record
    slack = 0.5 * SERVER_HOUR * len(customers) * 2
    assert max(per_day.values()) <= 64 * 86_400 + slack
    assert len(per_day) >= 25  # the pool is busy on (almost) every day of the month
    assert len({r["event_id"] for r in a}) == len(a)


def test_usage_stops_at_until() -> None:
    until = datetime(2025, 9, 10, 5, 0, tzinfo=UTC)
    records = pool_usage(SEPT, 64, ["pixel"], seed=3, until=until)
    assert records and all(datetime.fromisoformat(r["ended_at"]) <= until for r in records)
    assert pool_usage(SEPT, 4, ["pixel"], seed=3) == []  # no full node
