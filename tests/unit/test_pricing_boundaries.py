"""Boundaries of the pure invoice drafting (core/pricing.py) that mutation testing found
unpinned (issue 11 §5, ``benchmarks/mutation.py``): the SLA credit's price per server-hour and
its sum over servers, first and last days, a shortfall under one hour, fees under one a month,
the order of skipped usage, months kept apart, and ``draft_lines`` over several documents.

Figures are worked by hand in each docstring; April 2026 has 30 days (2 592 000 s).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from test_pricing import APRIL, LEASE, NOW, RESERVED, Prices, amounts, at

from suanli.core.pricing import (
    Allocation,
    Lease,
    Outage,
    UsageItem,
    draft_lines,
    lease_lines,
    reserved_true_up,
    usage_lines,
)

WHOLE_APRIL = (date(2026, 4, 1), date(2026, 4, 30))


def _two_servers_down_ten_hours_each() -> Lease:
    lease = Lease(
        LEASE,
        [Allocation(5, at(1), at(1, month=5), at(1)), Allocation(6, at(1), at(1, month=5), at(1))],
    )
    lease.add_event(Outage(5, at(3, 2), at(3, 12)))
    lease.add_event(Outage(6, at(9, 8), at(9, 18)))
    return lease


def test_sla_credit_sums_the_servers_and_is_priced_per_server_hour() -> None:
    """Two servers each down 10 h (36 000 s > the 25 920 s allowance) → 72 000 s credited.

    credit = −30 000 × 72 000 / 2 592 000 = −833.333… → −833.33; VAT 6 % −50.00.
    Quantity 20.000 server-hours at −(30 000 / 30) / 24 = −41.666… per server-hour; the line
    covers the whole of April like the rent it reduces.
    """
    (credit,) = [
        d
        for d in lease_lines(APRIL, _two_servers_down_ten_hours_each(), NOW)
        if d.kind == "sla_credit"
    ]
    assert amounts([credit]) == [("sla_credit", D("-833.33"), D("-50.00"))]
    assert credit.quantity == D("20.000")
    assert credit.unit_price == D(-1000) / 24
    assert (credit.service_start, credit.service_end) == WHOLE_APRIL


def test_penalty_on_the_first_day_of_a_month_belongs_to_that_month() -> None:
    """Terminated 1 April → the 60 000 penalty is April's; terminated 1 May → not April's."""
    first = replace(LEASE, terminated_on=date(2026, 4, 1), termination_penalty=D("60000"))
    assert amounts(lease_lines(APRIL, Lease(first), NOW)) == [
        ("penalty", D("60000.00"), D("3600.00"))
    ]
    next_month = replace(first, terminated_on=date(2026, 5, 1))
    assert lease_lines(APRIL, Lease(next_month), NOW) == []


def test_a_fee_under_one_a_month_is_still_billed_over_the_rents_days() -> None:
    """O&M fee 0.90 a month, served 11..30 April = 20 days → 0.90 × 20 / 30 = 0.60; VAT 9 %
    0.054 → 0.05. The fee line covers April, as the rent line does."""
    terms = replace(LEASE, cabinet_fee=D("0"), om_fee=D("0.90"))
    lines = lease_lines(
        APRIL, Lease(terms, [Allocation(5, at(11), at(11, month=5), at(10, 12))]), NOW
    )
    (fee,) = [d for d in lines if d.kind == "fee"]
    assert amounts([fee]) == [("fee", D("0.60"), D("0.05"))]
    assert (fee.service_start, fee.service_end) == WHOLE_APRIL


def test_a_shortfall_under_one_hour_is_billed_for_the_whole_month() -> None:
    """Minimum 1 440 GPU-hours (8 × 24 × 15 × 0.5); used 1 439.5 h (5 182 200 s) → 0.5 h short
    × 10 = 5.00, VAT 0.30, service 1..30 April."""
    (line,) = reserved_true_up(APRIL, RESERVED, D(5_182_200))
    assert amounts([line]) == [("true_up", D("5.00"), D("0.30"))]
    assert line.quantity == D("0.500")
    assert (line.service_start, line.service_end) == WHOLE_APRIL


def test_reserved_usage_on_the_contracts_first_and_end_days() -> None:
    """Reserved from 16 April: usage on 16 April 00:00 is the contract's (1 h × 10 = 10.00).
    A contract ending 20 April does not cover usage starting on 20 April (``[start, end)``):
    that record is skipped."""
    first_day = usage_lines(
        [UsageItem(at(16), "H100x8", "reserved", D(3600))], [RESERVED], Prices()
    )
    assert amounts(first_day) == [("usage", D("10.00"), D("0.60"))]
    short = replace(RESERVED, end_date=date(2026, 4, 20))
    assert usage_lines([UsageItem(at(20), "H100x8", "reserved", D(3600))], [short], Prices()) == []


def test_a_skipped_record_does_not_stop_the_ones_after_it() -> None:
    """A reserved record outside any contract, then spot usage with no price, then 1 h of
    standard usage at 12 → only the standard line: 12.00, VAT 0.72."""
    usage = [
        UsageItem(at(2), "H100x8", "reserved", D(3600)),
        UsageItem(at(3), "H100x8", "spot", D(3600)),
        UsageItem(at(4), "H100x8", "standard", D(3600)),
    ]
    assert amounts(usage_lines(usage, [RESERVED], Prices())) == [("usage", D("12.00"), D("0.72"))]


def test_usage_of_two_months_is_two_lines() -> None:
    """1 h on 30 April and 2 h on 1 May at 12 → April 12.00 and May 24.00, each named by its month."""
    usage = [
        UsageItem(at(30, 23), "H100x8", "standard", D(3600)),
        UsageItem(at(1, 1, month=5), "H100x8", "standard", D(7200)),
    ]
    lines = usage_lines(usage, [], Prices())
    assert amounts(lines) == [("usage", D("12.00"), D("0.72")), ("usage", D("24.00"), D("1.44"))]
    assert [d.description[-7:] for d in lines] == ["2026-04", "2026-05"]


def test_draft_lines_keeps_every_lease_and_a_reserved_contract_without_usage() -> None:
    """Two leases; a reserved contract whose SKU has no usage recorded (0 used → the whole
    minimum 1 440 h × 10 = 14 400.00 short); reserved usage 1 h on 20 April (10.00).

    Lease 1: 20 server-days → rent 20 000.00, cabinet fee 2 000.00. Lease 2 (C-3): one server
    all April with an outage open since 30 April 10:00, counted until ``now`` = 30 April 20:00
    → 10 h → rent 30 000.00, fee 3 000.00, SLA credit −416.67.
    """
    one = Lease(LEASE, [Allocation(5, at(11), at(11, month=5), at(10, 12))])
    two = Lease(replace(LEASE, id=3, number="C-3"), [Allocation(7, at(1), at(1, month=5), at(1))])
    two.add_event(Outage(7, at(30, 10), None))
    usage = [UsageItem(at(20), "H100x8", "reserved", D(3600))]
    lines = draft_lines(APRIL, [one, two], [RESERVED], usage, {}, Prices(), at(30, 20))
    assert amounts(lines) == [
        ("rent", D("20000.00"), D("1200.00")),
        ("fee", D("2000.00"), D("180.00")),
        ("rent", D("30000.00"), D("1800.00")),
        ("fee", D("3000.00"), D("270.00")),
        ("sla_credit", D("-416.67"), D("-25.00")),
        ("true_up", D("14400.00"), D("864.00")),
        ("usage", D("10.00"), D("0.60")),
    ]
