"""Purchase-order import: groups contiguous order rows as the file streams, checks each order
(per line, then suppliers and numbers against the database per batch) and bulk-writes batches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import partial

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from suanli.core.catalog import Catalog
from suanli.core.clock import Clock
from suanli.core.errors import SuanliError
from suanli.core.rowfile import (
    ErrorLog,
    RowError,
)
from suanli.services.common import currency_code, non_negative_money, optional_text
from suanli.services.fleet.import_rows import (
    CHUNK,
    check,
    field_of,
    parse_date,
    parse_int,
)
from suanli.services.fleet.procurement import NewLine, NewOrder, validate_order
from suanli.store.bulk import insert_rows
from suanli.store.models import (
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    SupplierRow,
)

# --- orders ---------------------------------------------------------------------------------


def _order_from_rows(
    number: str, rows: list[tuple[int, dict[str, str]]], errors: list[RowError]
) -> NewOrder | None:
    first_line, first = rows[0]
    lines: list[NewLine] = []
    ordered_on = check(
        errors, first_line, "ordered_on", lambda: parse_date(first["ordered_on"], "ordered_on")
    )
    for line, row in rows:
        for col in ("supplier", "ordered_on", "currency", "note"):
            if row.get(col, "") != first.get(col, ""):
                errors.append(
                    RowError(line, col, f"differs from line {first_line} of order {number}")
                )
        qty = check(errors, line, "quantity", partial(parse_int, row["quantity"], "quantity"))
        price = check(
            errors, line, "unit_price", partial(non_negative_money, row["unit_price"], "unit_price")
        )
        promised = check(
            errors, line, "promised_on", partial(parse_date, row["promised_on"], "promised_on")
        )
        if qty is not None and price is not None and promised is not None:
            lines.append(NewLine(row["sku"], qty, price, promised))
    if ordered_on is None or len(lines) != len(rows):
        return None
    return NewOrder(
        number,
        first["supplier"],
        ordered_on,
        lines,
        first.get("currency") or None,
        first.get("note") or None,
    )


def _check_order(
    catalog: Catalog,
    spec: NewOrder,
    rows: list[tuple[int, dict[str, str]]],
    currency: str,
    errors: list[RowError],
) -> None:
    """Check each line on its own (no database) so that every bad row is reported."""
    found: set[RowError] = set()
    for (line, _), new_line in zip(rows, spec.lines, strict=True):
        try:
            validate_order(catalog, replace(spec, lines=[new_line]), currency)
        except SuanliError as exc:
            found.add(RowError(line, field_of(exc, "number"), exc.message))
    errors.extend(sorted(found, key=lambda e: (e.line, e.column)))
    check(errors, rows[0][0], "note", partial(optional_text, spec.note, "note", 2000))


@dataclass(frozen=True, slots=True)
class _PlannedOrder:
    spec: NewOrder
    line: int  # of its first row


class OrderImport:
    """Groups order rows as the file streams; checks and writes the orders in batches.

    An order is complete when the next number begins, so **an order's rows must be
    contiguous**: a number met again after another order is a bad row. Memory is bounded by
    one batch (:data:`CHUNK` rows), the numbers seen and the supplier cache; each batch costs
    one query for unknown suppliers, one for existing order numbers and two bulk INSERTs.
    """

    def __init__(self, s: Session, clock: Clock, catalog: Catalog, currency: str) -> None:
        self.s, self.clock, self.catalog, self.currency = s, clock, catalog, currency
        self.seen: dict[str, int] = {}  # order number -> line of its first row
        self.suppliers: dict[str, int | None] = {}
        self.created: list[str] = []
        self.rows = 0

    def run(self, rows: Iterator[tuple[int, dict[str, str]]], log: ErrorLog) -> None:
        batch: list[_PlannedOrder] = []
        size = 0
        for number, group in self._orders(rows, log):
            errors: list[RowError] = []
            spec = _order_from_rows(number, group, errors)
            if spec is not None:
                _check_order(self.catalog, spec, group, self.currency, errors)
            log.extend(errors)
            if spec is not None and not errors:
                batch.append(_PlannedOrder(spec, group[0][0]))
                size += len(group)
            if size >= CHUNK:
                self._flush(batch, log)
                batch, size = [], 0
        self._flush(batch, log)

    def _orders(
        self, rows: Iterator[tuple[int, dict[str, str]]], log: ErrorLog
    ) -> Iterator[tuple[str, list[tuple[int, dict[str, str]]]]]:
        """Runs of rows sharing an order number, in file order."""
        number, group = "", []
        for line, row in rows:
            self.rows += 1
            if row["number"] == number:
                group.append((line, row))
                continue
            if group:
                yield number, group
            number, group = "", []
            if not row["number"]:
                log.add(RowError(line, "number", "required"))
            elif row["number"] in self.seen:
                first = self.seen[row["number"]]
                log.add(RowError(line, "number", f"order {row['number']} began at line {first}; "
                                 "keep an order's rows together"))  # fmt: skip
            else:
                number, group = row["number"], [(line, row)]
                self.seen[number] = line
        if group:
            yield number, group

    def _flush(self, batch: list[_PlannedOrder], log: ErrorLog) -> None:
        """Check a batch against the database; write it if the file is still clean."""
        if not batch:
            return
        names = {o.spec.supplier for o in batch} - self.suppliers.keys()
        if names:
            found = dict(
                self.s.execute(
                    select(SupplierRow.name, SupplierRow.id).where(SupplierRow.name.in_(names))
                ).all()
            )
            self.suppliers.update({n: found.get(n) for n in names})
        numbers = [o.spec.number for o in batch]
        existing = set(
            self.s.scalars(
                select(PurchaseOrderRow.number).where(PurchaseOrderRow.number.in_(numbers))
            )
        )
        for o in batch:
            if self.suppliers[o.spec.supplier] is None:
                log.add(RowError(o.line, "supplier", f"no supplier {o.spec.supplier!r}"))
            if o.spec.number in existing:
                log.add(RowError(o.line, "number", f"purchase order {o.spec.number!r} exists"))
        if not log:
            self._write(batch)

    def _write(self, batch: list[_PlannedOrder]) -> None:
        now = self.clock.now()
        conn = self.s.connection()
        orders = [
            {"number": o.spec.number, "supplier_id": self.suppliers[o.spec.supplier],
             "ordered_on": o.spec.ordered_on, "currency": currency_code(o.spec.currency, self.currency),
             "note": o.spec.note, "funding_source": None, "created_at": now}
            for o in batch
        ]  # fmt: skip
        ids: dict[str, int] = dict(
            insert_rows(conn, _ORDERS, _ORDER_TYPES, orders, ("number", "id"))
        )
        lines = [
            {"order_id": ids[o.spec.number], "line_no": i, "sku": ln.sku, "quantity": ln.quantity,
             "unit_price": Decimal(ln.unit_price), "promised_on": ln.promised_on,
             "cancelled_quantity": 0, "cancelled_at": None, "cancel_reason": None}
            for o in batch
            for i, ln in enumerate(o.spec.lines, start=1)
        ]  # fmt: skip
        insert_rows(conn, _ORDER_LINES, _ORDER_LINE_TYPES, lines)
        self.created += [o.spec.number for o in batch]


_ORDERS: Table = PurchaseOrderRow.__table__  # type: ignore[assignment]
_ORDER_LINES: Table = PurchaseOrderLineRow.__table__  # type: ignore[assignment]
_ORDER_TYPES = {
    "number": "text", "supplier_id": "int", "ordered_on": "date", "currency": "text",
    "note": "text", "funding_source": "text", "created_at": "timestamptz",
}  # fmt: skip
_ORDER_LINE_TYPES = {
    "order_id": "int", "line_no": "int", "sku": "text", "quantity": "int",
    "unit_price": "numeric", "promised_on": "date", "cancelled_quantity": "int",
    "cancelled_at": "timestamptz", "cancel_reason": "text",
}  # fmt: skip
