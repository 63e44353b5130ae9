"""Report sections *capacity* (announced → contracted → delivered → in service) and
*procurement*, read from ``announcements``, purchase orders, deliveries and server transitions.

Definitions (all "at the end" mean before the first day after the period):

- contracted: quantity of the announcement's linked order lines ordered by the end, less what
  was cancelled by the end;
- delivered: deliveries dated by the end; in service: of those servers, the ones whose last
  transition by the end left them ``available``, ``leased`` or ``cloud_pool``;
- the gap announced − delivered splits into never ordered, cancelled (reasons listed), overdue
  (promised before the end, not delivered: supplier shortfall) and not yet due;
- deposits at risk: transfers, by the end, to a supplier that has overdue lines at the end.

GPUs and P come from the catalog per SKU, under both conventions (FP16 sparse and BF16 dense).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Subquery, func, select
from sqlalchemy.orm import Session

from suanli.core.billing import midnight
from suanli.core.catalog import Catalog, PConvention
from suanli.services.reports.model import Figure, Message, Section, Table, cents, p1, pct, plain
from suanli.services.reports.period import ReportPeriod
from suanli.store.models import (
    AnnouncementOrderRow,
    AnnouncementRow,
    DeliveryRow,
    FundTransferRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ServerRow,
    ServerTransitionRow,
    SupplierRow,
)

IN_SERVICE = frozenset({"available", "leased", "cloud_pool"})
STAGES = ("announced", "contracted", "delivered", "in_service")
CAPACITY_COLUMNS = ("stage", "units", "gpus", "p_fp16_sparse", "p_bf16_dense")
GAP_CAUSES = ("never_ordered", "cancelled", "overdue", "not_yet_due")


@dataclass(frozen=True, slots=True)
class LineState:
    """One order line as it stood at the end of the period."""

    order: str
    line_no: int
    supplier: str
    sku: str
    quantity: int
    unit_price: Decimal
    promised_on: date
    ordered_on: date
    cancelled: int  # by the end
    cancel_reason: str | None
    delivered: int  # by the end
    in_service: int  # at the end

    @property
    def outstanding(self) -> int:
        return self.quantity - self.cancelled - self.delivered


def _mix_capacity(catalog: Catalog, mix: dict[str, int]) -> tuple[int, int, Decimal, Decimal]:
    units = sum(mix.values())
    gpus = sum(n * catalog.sku(sku).gpus for sku, n in mix.items())
    p16 = sum((n * _p(catalog, sku, PConvention.FP16_SPARSE) for sku, n in mix.items()), Decimal(0))
    pbf = sum((n * _p(catalog, sku, PConvention.BF16_DENSE) for sku, n in mix.items()), Decimal(0))
    return units, gpus, p16, pbf


def _p(catalog: Catalog, sku: str, convention: PConvention) -> Decimal:
    """P of one server to 3 decimals (exact sums; shown to 1 decimal)."""
    return Decimal(str(round(catalog.sku(sku).petaflops(convention), 3)))


def _row(catalog: Catalog, stage: str, mix: dict[str, int]) -> tuple[str, ...]:
    units, gpus, p16, pbf = _mix_capacity(catalog, mix)
    return (stage, str(units), str(gpus), p1(p16), p1(pbf))


def load_lines(
    s: Session, period: ReportPeriod, order_ids: list[int] | None = None
) -> list[LineState]:
    """Every order line ordered by the end (or of ``order_ids``), as it stood at the end."""
    end_at = midnight(period.end)
    q = (
        select(PurchaseOrderLineRow, PurchaseOrderRow.number, PurchaseOrderRow.ordered_on,
               SupplierRow.name)
        .join(PurchaseOrderRow, PurchaseOrderRow.id == PurchaseOrderLineRow.order_id)
        .join(SupplierRow, SupplierRow.id == PurchaseOrderRow.supplier_id)
        .where(PurchaseOrderRow.ordered_on < period.end)
        .order_by(PurchaseOrderRow.number, PurchaseOrderLineRow.line_no)
    )  # fmt: skip
    if order_ids is not None:
        q = q.where(PurchaseOrderRow.id.in_(order_ids))
    rows = s.execute(q).all()
    ids = [r[0].id for r in rows]
    delivered = dict(s.execute(
        select(DeliveryRow.line_id, func.count(DeliveryRow.id))
        .where(DeliveryRow.line_id.in_(ids), DeliveryRow.delivered_on < period.end)
        .group_by(DeliveryRow.line_id)).all())  # fmt: skip
    in_service = _in_service_by_line(s, ids, period)
    out = []
    for line, number, ordered_on, supplier in rows:
        cancelled_by_end = line.cancelled_at is not None and line.cancelled_at < end_at
        out.append(LineState(number, line.line_no, supplier, line.sku, line.quantity,
                             line.unit_price, line.promised_on, ordered_on,
                             line.cancelled_quantity if cancelled_by_end else 0,
                             line.cancel_reason if cancelled_by_end else None,
                             int(delivered.get(line.id, 0)), in_service.get(line.id, 0)))  # fmt: skip
    return out


def last_transitions(period: ReportPeriod) -> Subquery:
    """``(server_id, tid)``: each server's last transition before the period's end (its state
    then is that transition's ``to_state``)."""
    return (
        select(ServerTransitionRow.server_id, func.max(ServerTransitionRow.id).label("tid"))
        .where(ServerTransitionRow.at < midnight(period.end))
        .group_by(ServerTransitionRow.server_id)
        .subquery()
    )


def _in_service_by_line(s: Session, line_ids: list[int], period: ReportPeriod) -> dict[int, int]:
    if not line_ids:
        return {}
    last = last_transitions(period)
    rows = s.execute(
        select(DeliveryRow.line_id, ServerTransitionRow.to_state)
        .join(last, last.c.server_id == DeliveryRow.server_id)
        .join(ServerTransitionRow, ServerTransitionRow.id == last.c.tid)
        .where(DeliveryRow.line_id.in_(line_ids), DeliveryRow.delivered_on < period.end)
    ).all()
    counts: dict[int, int] = defaultdict(int)
    for line_id, state in rows:
        if state in IN_SERVICE:
            counts[line_id] += 1
    return dict(counts)


def _stage_mixes(lines: list[LineState]) -> dict[str, dict[str, int]]:
    mixes: dict[str, dict[str, int]] = {k: defaultdict(int) for k in STAGES[1:]}
    for ln in lines:
        mixes["contracted"][ln.sku] += ln.quantity - ln.cancelled
        mixes["delivered"][ln.sku] += ln.delivered
        mixes["in_service"][ln.sku] += ln.in_service
    return mixes


def capacity_section(s: Session, period: ReportPeriod, catalog: Catalog) -> Section:
    anns = s.scalars(
        select(AnnouncementRow)
        .where(AnnouncementRow.announced_on < period.end)
        .order_by(AnnouncementRow.announced_on, AnnouncementRow.ref)
    ).all()
    tables: list[Table] = []
    flags: list[Message] = []
    totals = {"announced": Decimal(0), "delivered": Decimal(0)}
    for ann in anns:
        mix = _json_mix(ann.sku_mix)
        order_ids = list(s.scalars(select(AnnouncementOrderRow.order_id).where(
            AnnouncementOrderRow.announcement_id == ann.id)))  # fmt: skip
        lines = load_lines(s, period, order_ids)
        mixes = _stage_mixes(lines)
        rows = [_row(catalog, "announced", mix)]
        rows += [_row(catalog, stage, dict(mixes[stage])) for stage in STAGES[1:]]
        tables.append(Table(f"capacity.{ann.ref}", CAPACITY_COLUMNS, tuple(rows)))
        gap = _gap(ann.planned_units, lines, period.end)
        tables.append(Table(f"gap.{ann.ref}", ("cause", "units"),
                            tuple((c, str(gap[c])) for c in GAP_CAUSES)))  # fmt: skip
        announced_p = _mix_capacity(catalog, mix)[2]
        delivered_p = _mix_capacity(catalog, dict(mixes["delivered"]))[2]
        totals["announced"] += announced_p
        totals["delivered"] += delivered_p
        if gap["cancelled"] or gap["overdue"]:
            reasons = sorted({ln.cancel_reason for ln in lines if ln.cancel_reason})
            flags.append(Message("capacity.shortfall", {
                "ref": ann.ref, "announced_on": ann.announced_on.isoformat(),
                "stated_p": plain(ann.planned_p), "convention": ann.p_convention,
                "announced_p": p1(announced_p), "delivered_p": p1(delivered_p),
                "share": pct(delivered_p, announced_p), "cancelled": str(gap["cancelled"]),
                "overdue": str(gap["overdue"]), "reasons": "; ".join(reasons) or "-"}))  # fmt: skip
    fleet = _fleet_in_service(s, period, catalog)
    figures = (
        Figure("announcements", str(len(anns)), "count"),
        Figure("announced_p_fp16_sparse", p1(totals["announced"]), "P"),
        Figure("delivered_p_fp16_sparse", p1(totals["delivered"]), "P"),
        Figure("delivered_share", pct(totals["delivered"], totals["announced"]), "%"),
        Figure("fleet_in_service_units", str(fleet[0]), "units"),
        Figure("fleet_in_service_gpus", str(fleet[1]), "GPUs"),
        Figure("fleet_in_service_p_fp16_sparse", p1(fleet[2]), "P"),
        Figure("fleet_in_service_p_bf16_dense", p1(fleet[3]), "P"),
    )
    return Section("capacity", figures, tuple(tables), tuple(flags),
                   notes=(Message("capacity.convention"),))  # fmt: skip


def _json_mix(text: str) -> dict[str, int]:
    return {str(k): int(v) for k, v in json.loads(text).items()}


def _gap(announced: int, lines: list[LineState], end: date) -> dict[str, int]:
    ordered = sum(ln.quantity for ln in lines)
    return {
        "never_ordered": max(0, announced - ordered),
        "cancelled": sum(ln.cancelled for ln in lines),
        "overdue": sum(ln.outstanding for ln in lines if ln.promised_on < end),
        "not_yet_due": sum(ln.outstanding for ln in lines if ln.promised_on >= end),
    }


def _fleet_in_service(
    s: Session, period: ReportPeriod, catalog: Catalog
) -> tuple[int, int, Decimal, Decimal]:
    """Every server (announced or not) in service at the end."""
    last = last_transitions(period)
    rows = s.execute(
        select(ServerRow.sku, func.count(ServerRow.id))
        .join(last, last.c.server_id == ServerRow.id)
        .join(ServerTransitionRow, ServerTransitionRow.id == last.c.tid)
        .where(ServerTransitionRow.to_state.in_(sorted(IN_SERVICE)))
        .group_by(ServerRow.sku)
    ).all()
    mix = {sku: int(n) for sku, n in rows if sku in catalog.servers}
    return _mix_capacity(catalog, mix)


# --- procurement --------------------------------------------------------------------------


def procurement_section(s: Session, period: ReportPeriod) -> Section:
    lines = load_lines(s, period)
    placed = [ln for ln in lines if period.contains(ln.ordered_on)]
    start_at, end_at = midnight(period.start), midnight(period.end)
    delivered = s.execute(
        select(func.count(DeliveryRow.id), func.coalesce(func.sum(PurchaseOrderLineRow.unit_price), 0))
        .join(PurchaseOrderLineRow, PurchaseOrderLineRow.id == DeliveryRow.line_id)
        .where(DeliveryRow.delivered_on >= period.start, DeliveryRow.delivered_on < period.end)
    ).one()  # fmt: skip
    cancelled = s.execute(
        select(PurchaseOrderRow.number, PurchaseOrderLineRow.line_no,
               PurchaseOrderLineRow.cancelled_quantity, PurchaseOrderLineRow.cancel_reason)
        .join(PurchaseOrderRow, PurchaseOrderRow.id == PurchaseOrderLineRow.order_id)
        .where(PurchaseOrderLineRow.cancelled_at >= start_at,
               PurchaseOrderLineRow.cancelled_at < end_at)
        .order_by(PurchaseOrderRow.number, PurchaseOrderLineRow.line_no)
    ).all()  # fmt: skip
    overdue = [ln for ln in lines if ln.outstanding > 0 and ln.promised_on < period.end]
    overdue_suppliers = sorted({ln.supplier for ln in overdue})
    at_risk = s.scalar(
        select(func.coalesce(func.sum(FundTransferRow.amount), 0)).where(
            FundTransferRow.transferred_on < period.end,
            FundTransferRow.counterparty.in_(overdue_suppliers),
        )
    )
    figures = (
        Figure("orders_placed", str(len({ln.order for ln in placed})), "count"),
        Figure("units_ordered", str(sum(ln.quantity for ln in placed)), "units"),
        Figure("value_ordered", cents(sum((ln.quantity * ln.unit_price for ln in placed), Decimal(0))), "CNY"),
        Figure("units_delivered", str(delivered[0]), "units"),
        Figure("value_delivered", cents(Decimal(delivered[1])), "CNY"),
        Figure("units_cancelled", str(sum(int(r[2]) for r in cancelled)), "units"),
        Figure("units_overdue", str(sum(ln.outstanding for ln in overdue)), "units"),
        Figure("value_overdue", cents(sum((ln.outstanding * ln.unit_price for ln in overdue), Decimal(0))), "CNY"),
        Figure("deposits_at_risk", cents(Decimal(at_risk or 0)), "CNY"),
    )  # fmt: skip
    tables = (
        Table("overdue", ("line", "sku", "outstanding", "promised_on", "days_overdue"), tuple(
            (f"{ln.order}/{ln.line_no}", ln.sku, str(ln.outstanding), ln.promised_on.isoformat(),
             str((period.last_day - ln.promised_on).days)) for ln in overdue)),
        Table("cancellations", ("line", "units", "reason"), tuple(
            (f"{n}/{no}", str(q), reason or "-") for n, no, q, reason in cancelled)),
        Table("unit_price", ("sku_quarter", "units", "average_unit_price"), _price_history(lines)),
    )  # fmt: skip
    flags = tuple(
        Message("procurement.deposits_at_risk", {"amount": cents(Decimal(at_risk)),
                                                 "suppliers": ", ".join(overdue_suppliers)})
        for _ in [0] if at_risk
    )  # fmt: skip
    return Section("procurement", figures, tables, flags)


def _price_history(lines: list[LineState]) -> tuple[tuple[str, ...], ...]:
    """Quantity-weighted average unit price per SKU and order quarter, to the cent."""
    groups: dict[str, tuple[int, Decimal]] = {}
    for ln in lines:
        key = f"{ln.sku} {ln.ordered_on.year}Q{(ln.ordered_on.month - 1) // 3 + 1}"
        units, value = groups.get(key, (0, Decimal(0)))
        groups[key] = (units + ln.quantity, value + ln.quantity * ln.unit_price)
    return tuple((k, str(u), cents(v / u)) for k, (u, v) in sorted(groups.items()))
