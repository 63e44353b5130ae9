"""Procurement domain: suppliers, purchase orders and lines, deliveries, and report arithmetic.

Vocabulary: a *line* orders ``quantity`` servers of one SKU at ``unit_price`` with a promised
date. ``delivered`` counts serials received against it; ``cancelled`` is the undelivered
quantity written off; ``outstanding = quantity - delivered - cancelled`` is never negative.
Report figures come in three units: servers, money (exact ``Decimal``, unit price × units) and
computing power in P under both conventions (FP16 sparse as announced, BF16 dense).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar

from suanli.core.catalog import Catalog, PConvention


@dataclass(frozen=True, slots=True)
class Supplier:
    id: int
    name: str
    country: str | None


@dataclass(frozen=True, slots=True)
class OrderLine:
    __json_properties__: ClassVar[tuple[str, ...]] = ("outstanding",)

    line_no: int
    sku: str
    quantity: int
    unit_price: Decimal
    promised_on: date
    delivered: int
    cancelled: int
    cancel_reason: str | None

    @property
    def outstanding(self) -> int:
        return self.quantity - self.delivered - self.cancelled


@dataclass(frozen=True, slots=True)
class PurchaseOrder:
    id: int
    number: str
    supplier: str
    ordered_on: date
    currency: str
    note: str | None
    lines: tuple[OrderLine, ...]


@dataclass(frozen=True, slots=True)
class Delivery:
    po_number: str
    line_no: int
    serial: str
    delivered_on: date
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Amount:
    """A quantity of servers in units, money and P."""

    units: int
    money: Decimal
    p_fp16_sparse: float
    p_bf16_dense: float

    def __add__(self, other: Amount) -> Amount:
        return Amount(
            self.units + other.units,
            self.money + other.money,
            self.p_fp16_sparse + other.p_fp16_sparse,
            self.p_bf16_dense + other.p_bf16_dense,
        )


ZERO = Amount(0, Decimal(0), 0.0, 0.0)


def amount_of(catalog: Catalog, sku: str, units: int, unit_price: Decimal) -> Amount:
    server = catalog.sku(sku)
    return Amount(
        units=units,
        money=unit_price * units,
        p_fp16_sparse=server.petaflops(PConvention.FP16_SPARSE) * units,
        p_bf16_dense=server.petaflops(PConvention.BF16_DENSE) * units,
    )


@dataclass(frozen=True, slots=True)
class OrderSummary:
    number: str
    supplier: str
    ordered_on: date
    currency: str
    ordered: Amount
    delivered: Amount
    cancelled: Amount
    outstanding: Amount


def summarise_order(catalog: Catalog, order: PurchaseOrder) -> OrderSummary:
    """Ordered vs delivered vs cancelled vs outstanding of one order."""
    ordered = delivered = cancelled = outstanding = ZERO
    for line in order.lines:
        ordered += amount_of(catalog, line.sku, line.quantity, line.unit_price)
        delivered += amount_of(catalog, line.sku, line.delivered, line.unit_price)
        cancelled += amount_of(catalog, line.sku, line.cancelled, line.unit_price)
        outstanding += amount_of(catalog, line.sku, line.outstanding, line.unit_price)
    return OrderSummary(
        order.number,
        order.supplier,
        order.ordered_on,
        order.currency,
        ordered,
        delivered,
        cancelled,
        outstanding,
    )


def total_by_currency(summaries: Iterable[OrderSummary]) -> dict[str, OrderSummary]:
    """Totals per currency (money of different currencies is never added)."""
    totals: dict[str, OrderSummary] = {}
    for s in summaries:
        t = totals.get(s.currency)
        if t is None:
            totals[s.currency] = OrderSummary(
                "TOTAL",
                "",
                s.ordered_on,
                s.currency,
                s.ordered,
                s.delivered,
                s.cancelled,
                s.outstanding,
            )
        else:
            totals[s.currency] = OrderSummary(
                "TOTAL",
                "",
                min(t.ordered_on, s.ordered_on),
                s.currency,
                t.ordered + s.ordered,
                t.delivered + s.delivered,
                t.cancelled + s.cancelled,
                t.outstanding + s.outstanding,
            )
    return totals


@dataclass(frozen=True, slots=True)
class OverdueLine:
    number: str
    supplier: str
    line_no: int
    sku: str
    promised_on: date
    days_overdue: int
    outstanding: int
    outstanding_money: Decimal
    currency: str


def overdue_lines(orders: Iterable[PurchaseOrder], as_of: date) -> list[OverdueLine]:
    """Lines promised before ``as_of`` that still have undelivered, uncancelled units."""
    out = [
        OverdueLine(
            o.number,
            o.supplier,
            line.line_no,
            line.sku,
            line.promised_on,
            (as_of - line.promised_on).days,
            line.outstanding,
            line.unit_price * line.outstanding,
            o.currency,
        )
        for o in orders
        for line in o.lines
        if line.outstanding > 0 and line.promised_on < as_of
    ]
    return sorted(out, key=lambda x: (-x.days_overdue, x.number, x.line_no))


@dataclass(frozen=True, slots=True)
class PricePoint:
    ordered_on: date
    sku: str
    supplier: str
    number: str
    line_no: int
    quantity: int
    unit_price: Decimal
    currency: str


def price_history(orders: Iterable[PurchaseOrder], sku: str | None = None) -> list[PricePoint]:
    """Unit prices of every order line over time (oldest first), optionally for one SKU."""
    points = [
        PricePoint(
            o.ordered_on,
            line.sku,
            o.supplier,
            o.number,
            line.line_no,
            line.quantity,
            line.unit_price,
            o.currency,
        )
        for o in orders
        for line in o.lines
        if sku is None or line.sku == sku
    ]
    return sorted(points, key=lambda p: (p.ordered_on, p.sku, p.number, p.line_no))
