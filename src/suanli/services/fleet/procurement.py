"""Procurement use-cases: suppliers, purchase orders, deliveries per serial, cancellations, reports.

Single writer of ``suppliers``, ``purchase_orders``, ``purchase_order_lines`` and
``deliveries``. Invariants, checked before anything is written (one transaction per call):

- a line's ``delivered + cancelled <= quantity``; a delivery never exceeds the outstanding
  quantity, and cancelling writes off exactly the outstanding quantity;
- every delivered serial becomes a server (state ``delivered``, price, supplier and line
  copied from the order) or moves a pre-registered ``ordered`` server of that line to
  ``delivered``; both steps are recorded as lifecycle transitions;
- cancelling a line also cancels its pre-registered ``ordered`` servers.

Report arithmetic is pure (:mod:`suanli.core.procurement`); this module only loads orders.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from suanli.core.catalog import Catalog, default_catalog
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.fleet import ServerState
from suanli.core.procurement import (
    Delivery,
    OrderLine,
    OrderSummary,
    OverdueLine,
    PricePoint,
    PurchaseOrder,
    Supplier,
    overdue_lines,
    price_history,
    summarise_order,
    total_by_currency,
)
from suanli.services.common import (
    currency_code,
    non_negative_money,
    optional_text,
    require_text,
)
from suanli.services.fleet.servers import (
    NewServer,
    create_server_in,
    existing_serials,
    get_supplier_row,
    transition_in,
)
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    DeliveryRow,
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ServerRow,
    SupplierRow,
)


@dataclass(frozen=True, slots=True)
class NewLine:
    sku: str
    quantity: int
    unit_price: Decimal | str
    promised_on: date


@dataclass(frozen=True, slots=True)
class NewOrder:
    number: str
    supplier: str
    ordered_on: date
    lines: Sequence[NewLine]
    currency: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SummaryReport:
    orders: list[OrderSummary]
    totals: dict[str, OrderSummary]


# --- converters -----------------------------------------------------------------------------


def supplier_from_row(row: SupplierRow) -> Supplier:
    return Supplier(id=row.id, name=row.name, country=row.country)


def order_from_row(row: PurchaseOrderRow, delivered: dict[int, int]) -> PurchaseOrder:
    lines = tuple(
        OrderLine(
            line_no=ln.line_no,
            sku=ln.sku,
            quantity=ln.quantity,
            unit_price=ln.unit_price,
            promised_on=ln.promised_on,
            delivered=delivered.get(ln.id, 0),
            cancelled=ln.cancelled_quantity,
            cancel_reason=ln.cancel_reason,
        )
        for ln in row.lines
    )
    return PurchaseOrder(
        id=row.id,
        number=row.number,
        supplier=row.supplier.name,
        ordered_on=row.ordered_on,
        currency=row.currency,
        note=row.note,
        lines=lines,
    )


# --- session-level steps --------------------------------------------------------------------


def delivered_counts(s: Session, line_ids: Sequence[int]) -> dict[int, int]:
    if not line_ids:
        return {}
    rows = s.execute(
        select(DeliveryRow.line_id, func.count(DeliveryRow.id))
        .where(DeliveryRow.line_id.in_(line_ids))
        .group_by(DeliveryRow.line_id)
    ).all()
    return {line_id: int(n) for line_id, n in rows}


def get_order_row(s: Session, number: str) -> PurchaseOrderRow:
    row = s.scalars(
        select(PurchaseOrderRow)
        .where(PurchaseOrderRow.number == number)
        .options(selectinload(PurchaseOrderRow.lines), selectinload(PurchaseOrderRow.supplier))
    ).one_or_none()
    if row is None:
        raise NotFoundError("po.not_found", f"no purchase order {number!r}", {"number": number})
    return row


def get_line_row(order: PurchaseOrderRow, line_no: int) -> PurchaseOrderLineRow:
    for line in order.lines:
        if line.line_no == line_no:
            return line
    raise NotFoundError(
        "po.line_not_found",
        f"order {order.number} has no line {line_no}",
        {"line": f"one of {[ln.line_no for ln in order.lines]}"},
    )


def validate_order(catalog: Catalog, spec: NewOrder, default_currency: str) -> None:
    """Check an order's shape (no database access); raise on the first problem."""
    require_text(spec.number, "number", 64)
    require_text(spec.supplier, "supplier")
    currency_code(spec.currency, default_currency)
    if not spec.lines:
        raise ValidationError("po.no_lines", "an order needs at least one line", {"lines": ">= 1"})
    for i, line in enumerate(spec.lines):
        field = f"lines[{i}]"
        if line.sku not in catalog.servers:
            raise ValidationError(
                "catalog.unknown_sku",
                f"unknown server SKU {line.sku!r}",
                {f"{field}.sku": f"one of {sorted(catalog.servers)}"},
            )
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise ValidationError(
                "po.invalid_quantity", "quantity must be an integer", {f"{field}.quantity": "int"}
            )
        if line.quantity <= 0:
            raise ValidationError(
                "po.invalid_quantity", "quantity must be > 0", {f"{field}.quantity": "> 0"}
            )
        non_negative_money(line.unit_price, f"{field}.unit_price")
        if line.promised_on < spec.ordered_on:
            raise ValidationError(
                "po.promised_before_order",
                "a line cannot be promised before the order date",
                {f"{field}.promised_on": f">= {spec.ordered_on.isoformat()}"},
            )


def create_order_in(
    s: Session, clock: Clock, catalog: Catalog, spec: NewOrder, default_currency: str
) -> PurchaseOrderRow:
    validate_order(catalog, spec, default_currency)
    number = spec.number.strip()
    supplier = get_supplier_row(s, spec.supplier.strip())
    if s.scalars(select(PurchaseOrderRow.id).where(PurchaseOrderRow.number == number)).first():
        raise ConflictError("po.exists", f"purchase order {number!r} exists", {"number": "unique"})
    order = PurchaseOrderRow(
        number=number,
        supplier=supplier,
        ordered_on=spec.ordered_on,
        currency=currency_code(spec.currency, default_currency),
        note=optional_text(spec.note, "note", 2000),
        created_at=clock.now(),
    )
    for i, line in enumerate(spec.lines, start=1):
        order.lines.append(
            PurchaseOrderLineRow(
                line_no=i,
                sku=line.sku,
                quantity=line.quantity,
                unit_price=non_negative_money(line.unit_price, "unit_price"),
                promised_on=line.promised_on,
                cancelled_quantity=0,
            )
        )
    s.add(order)
    s.flush()
    return order


def deliver_in(
    s: Session,
    clock: Clock,
    catalog: Catalog,
    number: str,
    line_no: int,
    serials: Sequence[str],
    delivered_on: date,
    actor: str,
    network_group: str | None = None,
) -> list[ServerRow]:
    """Record the delivery of ``serials`` against one line; return the delivered servers."""
    order = get_order_row(s, number)
    line = get_line_row(order, line_no)
    clean = [require_text(x, "serials", 128) for x in serials]
    if not clean:
        raise ValidationError(
            "delivery.no_serials", "name at least one serial", {"serials": ">= 1"}
        )
    dupes = sorted({x for x in clean if clean.count(x) > 1})
    if dupes:
        raise ValidationError(
            "delivery.duplicate_serials", f"serials repeated: {dupes}", {"serials": "unique"}
        )
    if delivered_on > clock.now().date():
        raise ValidationError(
            "delivery.in_future", "a delivery date cannot be in the future", {"date": "<= today"}
        )
    if delivered_on < order.ordered_on:
        raise ValidationError(
            "delivery.before_order", "delivered before the order date", {"date": ">= order date"}
        )
    outstanding = (
        line.quantity - delivered_counts(s, [line.id]).get(line.id, 0) - line.cancelled_quantity
    )
    if len(clean) > outstanding:
        raise ConflictError(
            "po.over_delivery",
            f"line {line_no} of {number} has {outstanding} outstanding, {len(clean)} delivered",
            {"serials": f"at most {outstanding}"},
        )
    reason = f"delivered on {number} line {line_no}"
    actor = require_text(actor, "actor", 128)
    known = existing_serials(s, clean)
    servers: list[ServerRow] = []
    with s.no_autoflush:  # batch the inserts of a large delivery
        for serial in clean:
            server = _receive(
                s, clock, catalog, order, line, serial, known, actor, reason, network_group
            )
            s.add(
                DeliveryRow(
                    line=line,
                    server=server,
                    serial=serial,
                    delivered_on=delivered_on,
                    actor=actor,
                    created_at=clock.now(),
                )
            )
            servers.append(server)
    s.flush()
    return servers


def _receive(
    s: Session,
    clock: Clock,
    catalog: Catalog,
    order: PurchaseOrderRow,
    line: PurchaseOrderLineRow,
    serial: str,
    known: set[str],
    actor: str,
    reason: str,
    network_group: str | None,
) -> ServerRow:
    """The server for one delivered serial: a new one, or a pre-registered ``ordered`` one."""
    if serial not in known:
        spec = NewServer(
            serial=serial,
            sku=line.sku,
            purchase_price=line.unit_price,
            currency=order.currency,
            supplier=order.supplier.name,
            network_group=network_group,
            state=ServerState.DELIVERED,
            po_line_id=line.id,
        )
        return create_server_in(s, clock, catalog, spec, actor, reason, check_unique=False)
    existing = s.scalars(select(ServerRow).where(ServerRow.serial == serial)).one()
    if existing.state != ServerState.ORDERED or existing.po_line_id not in (None, line.id):
        raise ConflictError(
            "delivery.serial_exists",
            f"serial {serial} is already in the fleet ({existing.state})",
            {"serials": serial},
        )
    if existing.sku != line.sku:
        raise ConflictError(
            "delivery.sku_mismatch",
            f"server {serial} is a {existing.sku}, line {line.line_no} orders {line.sku}",
            {"serials": serial},
        )
    existing.po_line_id = line.id
    existing.supplier_id = order.supplier_id
    existing.purchase_price = existing.purchase_price or line.unit_price
    transition_in(s, clock, existing, ServerState.DELIVERED, actor, reason)
    return existing


def cancel_in(
    s: Session, clock: Clock, number: str, line_no: int | None, reason: str, actor: str
) -> int:
    """Cancel the outstanding quantity of one line (or of every line); return units cancelled."""
    reason = require_text(reason, "reason", 2000)
    order = get_order_row(s, number)
    lines = [get_line_row(order, line_no)] if line_no is not None else list(order.lines)
    delivered = delivered_counts(s, [ln.id for ln in lines])
    total = 0
    for line in lines:
        outstanding = line.quantity - delivered.get(line.id, 0) - line.cancelled_quantity
        if outstanding <= 0:
            continue
        line.cancelled_quantity += outstanding
        line.cancelled_at = clock.now()
        line.cancel_reason = reason
        total += outstanding
        pending = s.scalars(
            select(ServerRow).where(
                ServerRow.po_line_id == line.id, ServerRow.state == ServerState.ORDERED.value
            )
        ).all()
        for server in pending:
            transition_in(s, clock, server, ServerState.CANCELLED, actor, reason)
    if total == 0:
        raise ConflictError(
            "po.nothing_to_cancel",
            f"nothing outstanding to cancel on {number}"
            + (f" line {line_no}" if line_no is not None else ""),
            {"line": "a line with outstanding units"},
        )
    s.flush()
    return total


# --- the service ----------------------------------------------------------------------------


class ProcurementService:
    """Procurement use-cases; each public method is one transaction."""

    def __init__(
        self,
        sessions: SessionFactory,
        clock: Clock,
        catalog: Catalog | None = None,
        currency: str = "CNY",
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog or default_catalog()
        self.currency = currency

    def add_supplier(self, name: str, country: str | None = None) -> Supplier:
        with transaction(self.sessions) as s:
            name = require_text(name, "name")
            if s.scalars(select(SupplierRow.id).where(SupplierRow.name == name)).first():
                raise ConflictError(
                    "supplier.exists", f"supplier {name!r} exists", {"name": "unique"}
                )
            row = SupplierRow(
                name=name,
                country=optional_text(country, "country", 64),
                created_at=self.clock.now(),
            )
            s.add(row)
            s.flush()
            return supplier_from_row(row)

    def list_suppliers(self) -> list[Supplier]:
        with transaction(self.sessions) as s:
            rows = s.scalars(select(SupplierRow).order_by(SupplierRow.name))
            return [supplier_from_row(r) for r in rows]

    def create_order(self, spec: NewOrder) -> PurchaseOrder:
        with transaction(self.sessions) as s:
            row = create_order_in(s, self.clock, self.catalog, spec, self.currency)
            return order_from_row(row, {})

    def get_order(self, number: str) -> PurchaseOrder:
        with transaction(self.sessions) as s:
            row = get_order_row(s, number)
            return order_from_row(row, delivered_counts(s, [ln.id for ln in row.lines]))

    def list_orders(self, supplier: str | None = None) -> list[PurchaseOrder]:
        with transaction(self.sessions) as s:
            stmt = select(PurchaseOrderRow).options(
                selectinload(PurchaseOrderRow.lines), selectinload(PurchaseOrderRow.supplier)
            )
            if supplier:
                stmt = stmt.where(PurchaseOrderRow.supplier_id == get_supplier_row(s, supplier).id)
            rows = s.scalars(
                stmt.order_by(PurchaseOrderRow.ordered_on, PurchaseOrderRow.number)
            ).all()
            counts = delivered_counts(s, [ln.id for r in rows for ln in r.lines])
            return [order_from_row(r, counts) for r in rows]

    def deliver(
        self,
        number: str,
        line_no: int,
        serials: Sequence[str],
        actor: str,
        delivered_on: date | None = None,
        network_group: str | None = None,
    ) -> list[str]:
        """Record a (possibly partial) delivery; returns the delivered serials."""
        when = delivered_on or self.clock.now().date()
        with transaction(self.sessions) as s:
            rows = deliver_in(
                s, self.clock, self.catalog, number, line_no, serials, when, actor, network_group
            )
            return [r.serial for r in rows]

    def cancel_remainder(
        self, number: str, line_no: int | None, reason: str, actor: str
    ) -> PurchaseOrder:
        with transaction(self.sessions) as s:
            cancel_in(s, self.clock, number, line_no, reason, actor)
            row = get_order_row(s, number)
            return order_from_row(row, delivered_counts(s, [ln.id for ln in row.lines]))

    def deliveries(self, number: str | None = None) -> list[Delivery]:
        with transaction(self.sessions) as s:
            stmt = (
                select(DeliveryRow, PurchaseOrderLineRow.line_no, PurchaseOrderRow.number)
                .join(PurchaseOrderLineRow, DeliveryRow.line_id == PurchaseOrderLineRow.id)
                .join(PurchaseOrderRow)
            )
            if number is not None:
                get_order_row(s, number)
                stmt = stmt.where(PurchaseOrderRow.number == number)
            rows = s.execute(stmt.order_by(DeliveryRow.delivered_on, DeliveryRow.serial)).all()
            return [
                Delivery(num, ln, d.serial, d.delivered_on, d.actor, d.created_at)
                for d, ln, num in rows
            ]

    # reports

    def summary(self, supplier: str | None = None) -> SummaryReport:
        orders = [summarise_order(self.catalog, o) for o in self.list_orders(supplier)]
        return SummaryReport(orders, total_by_currency(orders))

    def overdue(self, as_of: date | None = None) -> list[OverdueLine]:
        return overdue_lines(self.list_orders(), as_of or self.clock.now().date())

    def prices(self, sku: str | None = None) -> list[PricePoint]:
        if sku is not None:
            self.catalog.sku(sku)
        return price_history(self.list_orders(), sku)
