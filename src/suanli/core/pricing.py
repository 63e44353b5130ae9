"""Invoice-line drafting (pure): rent with proration, pass-through fees, SLA credits, early
termination penalties, reserved minimum-commitment true-ups and usage, each with its VAT rate.

Owns the pricing rules of docs/billing.md over domain values only (:class:`ContractTerms`,
:class:`Allocation`, :class:`Outage`, :class:`UsageItem`, a :class:`PriceList` and the
:class:`~suanli.core.billing.Period`); it reads and writes nothing. The invoice run, revenue
recognition, the digital twin and the money-path reference model all call :func:`draft_lines`.
Rounding happens later, once per line (:func:`suanli.core.billing.line_amount`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from suanli.core.billing import (
    Period,
    contract_days,
    credited_seconds,
    downtime_seconds,
    gpu_hours,
    prorated,
    served_days,
    true_up_hours,
    usage_amount,
)
from suanli.core.kinds import LineKind, UsageClass

RATE_PLACES = Decimal("0.00000001")
REVENUE_KINDS = frozenset(LineKind)


@dataclass(frozen=True, slots=True)
class ContractTerms:
    """The priced terms of a lease or reserved-capacity contract."""

    id: int
    number: str
    customer_id: int
    kind: str
    sku: str
    start_date: date
    end_date: date
    monthly_rent: Decimal
    cabinet_fee: Decimal
    om_fee: Decimal
    fees_as_agent: bool
    sla_uptime: Decimal
    vat_rate: Decimal
    fee_vat_rate: Decimal
    committed_gpus: int
    gpu_hour_rate: Decimal
    min_commitment: Decimal
    terminated_on: date | None = None
    termination_penalty: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    """One server leased under a contract over ``[starts_at, ends_at)``."""

    id: int
    starts_at: datetime
    ends_at: datetime
    delivered_at: datetime | None


@dataclass(frozen=True, slots=True)
class Outage:
    """An outage of an allocation's server; ``down_until`` is ``None`` while it lasts."""

    allocation_id: int
    down_from: datetime
    down_until: datetime | None


@dataclass(slots=True)
class Lease:
    """A lease contract with its allocations and their outages (by allocation id)."""

    contract: ContractTerms
    allocations: list[Allocation] = field(default_factory=list)
    outages: dict[int, list[tuple[datetime, datetime | None]]] = field(default_factory=dict)

    def add_event(self, event: Outage) -> None:
        self.outages.setdefault(event.allocation_id, []).append((event.down_from, event.down_until))


@dataclass(frozen=True, slots=True)
class UsageItem:
    """Usage aggregate: GPU-seconds of a SKU and class that started at ``started_at``."""

    started_at: datetime
    sku: str
    priority_class: str
    gpu_seconds: Decimal


class Price(Protocol):
    """An on-demand GPU-hour price (``id`` keys the usage line it prices)."""

    @property
    def id(self) -> int: ...
    @property
    def gpu_hour_price(self) -> Decimal: ...
    @property
    def vat_rate(self) -> Decimal: ...


class PriceList(Protocol):
    def at(self, sku: str, klass: str, day: date) -> Price | None: ...


@dataclass(frozen=True, slots=True)
class DraftLine:
    kind: str
    description: str
    contract_id: int | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    exact_net: Decimal
    vat_rate: Decimal
    service_start: date | None = None
    service_end: date | None = None
    revenue: bool = True


def _per_day(monthly: Decimal, p: Period) -> Decimal:
    return (monthly / p.days).quantize(RATE_PLACES)


def lease_lines(p: Period, lease: Lease, now: datetime) -> list[DraftLine]:
    """Rent and fees by served server-days, the SLA credit, and an early-termination penalty.

    An outage still open is counted until ``now``.
    """
    c = lease.contract
    span = (p.start, p.end - timedelta(days=1))
    days = sum(served_days(p, a.starts_at, a.ends_at, a.delivered_at) for a in lease.allocations)
    lines: list[DraftLine] = []
    if days:
        lines.append(
            DraftLine(
                LineKind.RENT,
                f"{c.number} rent {c.sku}, {days} server-days",
                c.id,
                Decimal(days),
                "server-day",
                _per_day(c.monthly_rent, p),
                prorated(c.monthly_rent, days, p),
                c.vat_rate,
                *span,
            )
        )
        for label, monthly in (("cabinet fee", c.cabinet_fee), ("O&M fee", c.om_fee)):
            if monthly > 0:
                lines.append(
                    DraftLine(
                        LineKind.FEE,
                        f"{c.number} {label} (pass-through), {days} server-days",
                        c.id,
                        Decimal(days),
                        "server-day",
                        _per_day(monthly, p),
                        prorated(monthly, days, p),
                        c.fee_vat_rate,
                        *span,
                        revenue=not c.fees_as_agent,
                    )
                )
    credited = 0
    for alloc in lease.allocations:
        # only downtime while the server was leased counts: an outage that outlasts the lease
        # (or an open one after it ended) would otherwise credit rent that was never billed
        during = [
            (max(down, alloc.starts_at), min(up or now, alloc.ends_at))
            for down, up in lease.outages.get(alloc.id, [])
            if down < alloc.ends_at and (up is None or up > alloc.starts_at)
        ]
        down = downtime_seconds(p, [(a, b) for a, b in during if a < b], now)
        credited += credited_seconds(p, down, c.sla_uptime)
    if credited:
        hours = (Decimal(credited) / 3600).quantize(Decimal("0.001"))
        lines.append(
            DraftLine(
                LineKind.SLA_CREDIT,
                f"{c.number} SLA credit, {hours} server-hours down beyond {c.sla_uptime} uptime",
                c.id,
                hours,
                "server-hour",
                -_per_day(c.monthly_rent, p) / 24,
                -(c.monthly_rent * credited / p.seconds),
                c.vat_rate,
                *span,
            )
        )
    if c.terminated_on and p.start <= c.terminated_on < p.end and c.termination_penalty:
        lines.append(
            DraftLine(
                LineKind.PENALTY,
                f"{c.number} early termination on {c.terminated_on}",
                c.id,
                Decimal(1),
                "each",
                c.termination_penalty,
                c.termination_penalty,
                c.vat_rate,
            )
        )
    return lines


def reserved_true_up(p: Period, c: ContractTerms, used_in_period: Decimal) -> list[DraftLine]:
    """The shortfall below the minimum commitment over the contract's days in ``p``."""
    end = min(c.end_date, c.terminated_on or c.end_date)
    cdays = contract_days(p, c.start_date, end)
    if not cdays:
        return []
    short = true_up_hours(c.committed_gpus, cdays, c.min_commitment, used_in_period)
    if short <= 0:
        return []
    return [
        DraftLine(
            LineKind.TRUE_UP,
            f"{c.number} minimum commitment true-up ({c.committed_gpus} GPUs × {c.min_commitment})",
            c.id,
            short.quantize(Decimal("0.001")),
            "gpu-hour",
            c.gpu_hour_rate,
            short * c.gpu_hour_rate,
            c.vat_rate,
            p.start,
            p.end - timedelta(days=1),
        )
    ]


def usage_lines(
    usage: Iterable[UsageItem], reserved: Sequence[ContractTerms], prices: PriceList
) -> list[DraftLine]:
    """Usage grouped by month, SKU, class and rate: reserved usage at its contract's rate,
    the rest at the price list's price on the day it started (unpriced usage is skipped)."""
    groups: dict[tuple[str, str, str, int], Decimal] = defaultdict(Decimal)
    rates: dict[int, tuple[Decimal, Decimal, int | None]] = {}
    for u in usage:
        day = u.started_at.date()
        if u.priority_class == UsageClass.RESERVED:
            c = next(
                (c for c in reserved if c.sku == u.sku and c.start_date <= day < c.end_date), None
            )
            if c is None:
                continue  # validated at ingestion; a contract deleted later would leave it unbilled
            key_id, rates[-c.id] = -c.id, (c.gpu_hour_rate, c.vat_rate, c.id)
        else:
            price = prices.at(u.sku, u.priority_class, day)
            if price is None:
                continue
            key_id, rates[price.id] = price.id, (price.gpu_hour_price, price.vat_rate, None)
        month = f"{day.year:04d}-{day.month:02d}"
        groups[(month, u.sku, u.priority_class, key_id)] += u.gpu_seconds
    lines = []
    for (month, sku, klass, key_id), seconds in sorted(groups.items()):
        rate, vat, contract_id = rates[key_id]
        lines.append(
            DraftLine(
                LineKind.USAGE,
                f"{sku} {klass} GPU-hours, {month}",
                contract_id,
                gpu_hours(seconds),
                "gpu-hour",
                rate,
                usage_amount(seconds, rate),
                vat,
            )
        )
    return lines


def draft_lines(
    p: Period,
    leases: Sequence[Lease],
    reserved: Sequence[ContractTerms],
    usage: Sequence[UsageItem],
    reserved_used: Mapping[str, Decimal],
    prices: PriceList,
    now: datetime,
) -> list[DraftLine]:
    """Every line of a customer's bill (or revenue) for ``p``, in a stable order."""
    lines: list[DraftLine] = []
    for lease in leases:
        lines += lease_lines(p, lease, now)
    for c in reserved:
        lines += reserved_true_up(p, c, reserved_used.get(c.sku, Decimal(0)))
    return lines + usage_lines(usage, reserved, prices)
