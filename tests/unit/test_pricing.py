"""Pure invoice-line drafting (core/pricing.py) with hand-worked figures.

Every figure below is worked by hand in the test's docstring from the rules of docs/billing.md;
amounts are compared exactly after the one rounding per line (core/billing.line_amount).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal as D

from suanli.core.billing import line_amount, parse_period
from suanli.core.pricing import (
    Allocation,
    ContractTerms,
    DraftLine,
    Lease,
    Outage,
    UsageItem,
    draft_lines,
    lease_lines,
    reserved_true_up,
    usage_lines,
)

APRIL = parse_period("2026-04")  # 30 days, 2 592 000 seconds
NOW = datetime(2026, 5, 2, tzinfo=UTC)


def at(day: int, hour: int = 0, month: int = 4) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


LEASE = ContractTerms(
    id=1,
    number="C-1",
    customer_id=7,
    kind="lease",
    sku="H100x8",
    start_date=date(2026, 4, 11),
    end_date=date(2027, 4, 11),
    monthly_rent=D("30000"),
    cabinet_fee=D("3000"),
    om_fee=D("0"),
    fees_as_agent=True,
    sla_uptime=D("0.99"),
    vat_rate=D("0.06"),
    fee_vat_rate=D("0.09"),
    committed_gpus=0,
    gpu_hour_rate=D("0"),
    min_commitment=D("0"),
)
RESERVED = replace(
    LEASE,
    id=2,
    number="R-2",
    kind="reserved",
    start_date=date(2026, 4, 16),
    end_date=date(2027, 4, 16),
    monthly_rent=D("0"),
    cabinet_fee=D("0"),
    committed_gpus=8,
    gpu_hour_rate=D("10"),
    min_commitment=D("0.5"),
)


@dataclass(frozen=True)
class FixedPrice:
    id: int
    gpu_hour_price: D
    vat_rate: D


class Prices:
    """A price list with one on-demand price, valid from 2026-04-01."""

    def at(self, sku: str, klass: str, day: date) -> FixedPrice | None:
        if (sku, klass) == ("H100x8", "standard") and day >= date(2026, 4, 1):
            return FixedPrice(11, D("12"), D("0.06"))
        return None


def amounts(lines: list[DraftLine]) -> list[tuple[str, D, D]]:
    """(kind, net, tax) of each line after its one rounding."""
    out = []
    for d in lines:
        a = line_amount(d.exact_net, d.vat_rate)
        out.append((d.kind, a.net, a.tax))
    return out


def test_rent_and_fees_prorated_by_served_days() -> None:
    """Allocated from 11 April 00:00, delivered 10 April 12:00 → served 11..30 April = 20 days.

    rent = 30 000 × 20 / 30 = 20 000.00, VAT 6 % = 1 200.00; unit price 30 000 / 30 = 1 000.
    cabinet fee = 3 000 × 20 / 30 = 2 000.00, VAT 9 % = 180.00; billed as agent → not revenue.
    """
    lease = Lease(LEASE, [Allocation(5, at(11), at(11, month=5), at(10, 12))])
    lines = lease_lines(APRIL, lease, NOW)
    assert amounts(lines) == [
        ("rent", D("20000.00"), D("1200.00")),
        ("fee", D("2000.00"), D("180.00")),
    ]
    assert lines[0].quantity == 20 and lines[0].unit_price == D("1000")
    assert (lines[0].service_start, lines[0].service_end) == (date(2026, 4, 1), date(2026, 4, 30))
    assert lines[0].revenue and not lines[1].revenue


def test_delivered_mid_day_counts_from_next_day() -> None:
    """Delivered 20 April 09:00 → first served day is 21 April → 10 days → 10 000.00."""
    lease = Lease(LEASE, [Allocation(5, at(11), at(11, month=5), at(20, 9))])
    assert amounts(lease_lines(APRIL, lease, NOW))[0] == ("rent", D("10000.00"), D("600.00"))


def test_mid_day_termination_stops_service_the_next_day() -> None:
    """Allocation ends 25 April 15:00 → last served day is 25 April: 11..25 April = 15 days.

    rent = 30 000 × 15 / 30 = 15 000.00.
    """
    lease = Lease(LEASE, [Allocation(5, at(11), at(25, 15), at(10))])
    assert amounts(lease_lines(APRIL, lease, NOW))[0] == ("rent", D("15000.00"), D("900.00"))


def test_sla_credit_for_all_downtime_beyond_allowance() -> None:
    """99 % uptime over 30 days allows 0.01 × 2 592 000 = 25 920 s (7.2 h) of downtime.

    A 10-hour outage (36 000 s) exceeds it, so all of it is credited:
    −30 000 × 36 000 / 2 592 000 = −416.666… → −416.67; VAT −25.0002 → −25.00.
    A 7-hour outage (25 200 s) is within the allowance → no credit.
    """
    alloc = Allocation(5, at(1), at(1, month=5), at(1))
    lease = Lease(LEASE, [alloc])
    lease.add_event(Outage(5, at(3, 2), at(3, 12)))
    lines = lease_lines(APRIL, lease, NOW)
    assert amounts(lines)[2] == ("sla_credit", D("-416.67"), D("-25.00"))
    assert lines[2].quantity == D("10.000")
    short = Lease(LEASE, [alloc])
    short.add_event(Outage(5, at(3, 2), at(3, 9)))
    assert [d.kind for d in lease_lines(APRIL, short, NOW)] == ["rent", "fee"]


def test_open_outage_lasts_until_now() -> None:
    """An outage from 30 April 10:00 still open at 30 April 20:00 lasts 10 h → −416.67."""
    lease = Lease(LEASE, [Allocation(5, at(1), at(1, month=5), at(1))])
    lease.add_event(Outage(5, at(30, 10), None))
    assert amounts(lease_lines(APRIL, lease, at(30, 20)))[-1] == (
        "sla_credit",
        D("-416.67"),
        D("-25.00"),
    )


def test_termination_penalty_only_in_the_month_of_termination() -> None:
    """Terminated on 30 April with a 60 000 penalty → one line 60 000.00 (VAT 3 600.00) in
    April; none in March, when the contract had not yet been terminated."""
    ended = replace(LEASE, terminated_on=date(2026, 4, 30), termination_penalty=D("60000"))
    lines = lease_lines(APRIL, Lease(ended), NOW)
    assert amounts(lines) == [("penalty", D("60000.00"), D("3600.00"))]
    assert lease_lines(APRIL.previous(), Lease(ended), NOW) == []


def test_reserved_true_up_counts_from_the_contract_start_mid_month() -> None:
    """Reserved from 16 April: 15 contract days in April (16..30).

    minimum = 8 GPUs × 24 h × 15 days × 0.5 = 1 440 GPU-hours; used 1 000 h (3 600 000 s)
    → shortfall 440 h × 10 = 4 400.00, VAT 264.00. Counting from 1 April would give 30 days
    → 2 880 − 1 000 = 1 880 h: a different figure.
    """
    lines = reserved_true_up(APRIL, RESERVED, D(3_600_000))
    assert amounts(lines) == [("true_up", D("4400.00"), D("264.00"))]
    assert lines[0].quantity == D("440.000")
    assert reserved_true_up(APRIL, RESERVED, D(1440 * 3600)) == []


def test_reserved_true_up_stops_at_termination() -> None:
    """Terminated 21 April → contract days 16..20 April = 5: minimum 8 × 24 × 5 × 0.5 = 480 h;
    used 0 → 480 h × 10 = 4 800.00."""
    ended = replace(RESERVED, terminated_on=date(2026, 4, 21))
    assert amounts(reserved_true_up(APRIL, ended, D(0))) == [("true_up", D("4800.00"), D("288.00"))]


def test_usage_priced_by_list_or_by_contract() -> None:
    """Standard usage 5 400 s = 1.5 h × 12 = 18.00 (list price); reserved usage on 20 April
    7 200 s = 2 h × 10 = 20.00 (contract rate); reserved usage on 10 April falls before the
    contract → not billed; spot has no price → not billed."""
    usage = [
        UsageItem(at(5, 3), "H100x8", "standard", D(3600)),
        UsageItem(at(6, 3), "H100x8", "standard", D(1800)),
        UsageItem(at(20), "H100x8", "reserved", D(7200)),
        UsageItem(at(10), "H100x8", "reserved", D(7200)),
        UsageItem(at(10), "H100x8", "spot", D(7200)),
    ]
    lines = usage_lines(usage, [RESERVED], Prices())
    assert amounts(lines) == [("usage", D("20.00"), D("1.20")), ("usage", D("18.00"), D("1.08"))]
    assert [(d.contract_id, d.quantity) for d in lines] == [(2, D("2.000")), (None, D("1.500"))]


def test_draft_lines_orders_leases_then_true_ups_then_usage() -> None:
    """One lease (20 server-days), one reserved contract with 1 000 h used, 1.5 h on demand."""
    lease = Lease(LEASE, [Allocation(5, at(11), at(11, month=5), at(10, 12))])
    usage = [UsageItem(at(5, 3), "H100x8", "standard", D(5400))]
    lines = draft_lines(APRIL, [lease], [RESERVED], usage, {"H100x8": D(3_600_000)}, Prices(), NOW)
    assert [d.kind for d in lines] == ["rent", "fee", "true_up", "usage"]
    assert sum(line_amount(d.exact_net, d.vat_rate).net for d in lines) == D("26418.00")
