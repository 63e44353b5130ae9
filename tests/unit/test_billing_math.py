"""Pure billing arithmetic: periods, served days, SLA allowance, rounding per line, aging.
Property tests: invoice totals add up exactly; proration never exceeds the monthly amount."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suanli.core.billing import (
    add_months,
    aging_bucket,
    credited_seconds,
    downtime_seconds,
    line_amount,
    month_of,
    parse_period,
    prorated,
    served_days,
    true_up_hours,
)
from suanli.core.errors import ValidationError

APRIL = parse_period("2024-04")


def at(day: int, hour: int = 0, month: int = 4) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=UTC)


def test_periods() -> None:
    assert (APRIL.start, APRIL.end, APRIL.days, APRIL.key) == (
        date(2024, 4, 1),
        date(2024, 5, 1),
        30,
        "2024-04",
    )
    assert (
        parse_period("2024-02").days == 29
        and APRIL.next().key == "2024-05"
        and APRIL.previous().key == "2024-03"
    )
    assert month_of(date(2023, 12, 31)).next().key == "2024-01"
    for bad in ("2024-4", "24-04", "2024-13", "1999-01", "x"):
        with pytest.raises(ValidationError):
            parse_period(bad)
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 11, 15), 14) == date(2026, 1, 15)


def test_served_days_counts_whole_days_in_service() -> None:
    end = at(1, month=6)
    assert served_days(APRIL, at(16), end, at(16)) == 15
    assert served_days(APRIL, at(1), end, at(11, 8)) == 19  # in service from 12 April
    assert served_days(APRIL, at(1), end, None) == 0  # never delivered
    assert served_days(APRIL, at(1), at(10), at(1)) == 9  # terminated on 10 April
    assert served_days(APRIL, at(1, month=3), end, at(1, month=3)) == 30


def test_sla_allowance() -> None:
    down = downtime_seconds(APRIL, [(at(20), at(21, 6))], now=at(30))
    assert down == 30 * 3600
    assert credited_seconds(APRIL, down, D("0.995")) == down
    assert credited_seconds(APRIL, 3 * 3600, D("0.995")) == 0  # inside the 3.6 h allowance
    assert (
        downtime_seconds(APRIL, [(at(30, 12), None)], now=at(2, month=5)) == 12 * 3600
    )  # open, clipped


def test_rounding_half_up_per_line() -> None:
    assert line_amount(D("2916.665"), D("0.13")).net == D("2916.67")
    assert line_amount(D("-2916.6666"), D("0.13")).tax == D("-379.17")
    assert line_amount(D("0.125"), D("0.06")).tax == D("0.01")  # 0.13 × 0.06 = 0.0078 → 0.01
    assert prorated(D("70000"), 30, APRIL) == D("70000")
    assert true_up_hours(16, 30, D("0.5"), D(360000)) == D(5660)


def test_aging_buckets() -> None:
    issued = date(2024, 5, 1)
    assert [aging_bucket(issued, issued + timedelta(days=n)) for n in (0, 30, 31, 60, 61, 90, 91, 400)] == [
        "0-30", "0-30", "31-60", "31-60", "61-90", "61-90", "90+", "90+",
    ]  # fmt: skip


money = st.decimals(min_value=D("-1000000"), max_value=D("1000000"), places=4, allow_nan=False)
rates = st.sampled_from([D("0"), D("0.06"), D("0.09"), D("0.13")])


@given(st.lists(st.tuples(money, rates), min_size=1, max_size=30))
def test_invoice_totals_add_up_exactly(lines: list[tuple[D, D]]) -> None:
    amounts = [line_amount(net, rate) for net, rate in lines]
    net = sum((a.net for a in amounts), D(0))
    tax = sum((a.tax for a in amounts), D(0))
    assert sum((a.gross for a in amounts), D(0)) == net + tax
    assert all(
        a.net == a.net.quantize(D("0.01")) and a.tax == a.tax.quantize(D("0.01")) for a in amounts
    )
    assert all(abs(a.net - n) <= D("0.005") for a, (n, _) in zip(amounts, lines, strict=True))


@given(st.integers(0, 31), st.decimals(min_value=0, max_value=D("10000000"), places=2))
def test_proration_never_exceeds_the_month(days: int, monthly: D) -> None:
    period = parse_period("2024-05")
    days = min(days, period.days)
    net = line_amount(prorated(monthly, days, period), D(0)).net
    assert D(0) <= net <= monthly
    if days == period.days:
        assert net == monthly
    if days < period.days:  # one more day never bills less
        assert net <= line_amount(prorated(monthly, days + 1, period), D(0)).net
