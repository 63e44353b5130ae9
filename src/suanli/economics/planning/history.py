"""Supplier delivery risk read from the ledger's procurement history.

Owns turning purchase orders and their deliveries (:mod:`suanli.core.procurement` values, read
by the caller) into per-SKU observations the planner resamples: the promised lead time, the
delay of each line and its shortfall. Only *closed* lines (nothing outstanding: fully delivered
or the remainder cancelled) are observations; an open line's final delay is not known yet.

- lead time of a line: months from ``ordered_on`` to ``promised_on``;
- delay: months from ``promised_on`` to the line's last delivery (0 when on time or early;
  a line with nothing delivered has no delay observation);
- shortfall: ``cancelled / quantity``.

Months are days / 30.4375 (365.25 / 12). Pure: values in, values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from statistics import median

from suanli.core.procurement import Delivery, PurchaseOrder
from suanli.economics.planning.spec import DeliveryRisk, PlanningSpec

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True, slots=True)
class SkuHistory:
    sku: str
    lines: int  # closed lines observed
    lead_time_months: int  # median promised lead time, whole months
    delay_months: tuple[float, ...]
    shortfall: tuple[float, ...]


def _months(start: date, end: date) -> float:
    return (end - start).days / DAYS_PER_MONTH


def delivery_history(
    orders: Sequence[PurchaseOrder], deliveries: Sequence[Delivery]
) -> dict[str, SkuHistory]:
    """Observations per catalog SKU from closed order lines."""
    last: dict[tuple[str, int], date] = {}
    for d in deliveries:
        key = (d.po_number, d.line_no)
        last[key] = max(last.get(key, d.delivered_on), d.delivered_on)
    leads: dict[str, list[float]] = {}
    delays: dict[str, list[float]] = {}
    shorts: dict[str, list[float]] = {}
    for order in orders:
        for line in order.lines:
            if line.outstanding > 0 or line.quantity <= 0:
                continue
            leads.setdefault(line.sku, []).append(_months(order.ordered_on, line.promised_on))
            shorts.setdefault(line.sku, []).append(line.cancelled / line.quantity)
            arrived = last.get((order.number, line.line_no))
            if arrived is not None:
                delays.setdefault(line.sku, []).append(
                    round(max(0.0, _months(line.promised_on, arrived)), 3)
                )
    return {
        sku: SkuHistory(
            sku,
            len(shorts[sku]),
            max(0, round(median(leads[sku]))),
            tuple(delays.get(sku, [])),
            tuple(shorts[sku]),
        )
        for sku in sorted(shorts)
    }


def with_history(spec: PlanningSpec, history: dict[str, SkuHistory]) -> PlanningSpec:
    """``spec`` with each SKU whose ``catalog_sku`` has history taking its lead time, delays and
    shortfalls from the ledger (the file's figures stay for SKUs without history)."""
    skus = []
    for sku in spec.sku:
        h = history.get(sku.catalog_sku or "")
        if h is None:
            skus.append(sku)
            continue
        risk = DeliveryRisk(
            delay_months=list(h.delay_months) if h.delay_months else sku.delivery.delay_months,
            shortfall=list(h.shortfall),
        )
        skus.append(
            sku.model_copy(update={"lead_time_months": h.lead_time_months, "delivery": risk})
        )
    return spec.model_copy(update={"sku": skus})
