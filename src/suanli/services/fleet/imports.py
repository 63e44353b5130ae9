"""Bulk CSV import of servers and of purchase orders: all rows or nothing.

Contract: **one bad row rejects the whole file.** The file is read as a stream (a text, or a
binary file object from the CLI) through :mod:`suanli.core.rowfile`, which checks its shape
(UTF-8, BOM, NUL, duplicate or unknown header columns, field counts). Every row is then
validated on its own (numbers in ASCII digits and in range, references to
suppliers/cabinets/orders, duplicates inside the file and against the database, cabinet power
budgets). All of it happens inside one transaction; if any row is bad, nothing is written and
:class:`ImportRejected` (code ``import.invalid_rows``) lists the bad rows as
``{line, column, reason}`` -- the first :data:`~suanli.core.rowfile.MAX_REPORTED` and the
last -- with ``total`` counting them all. Line numbers are physical CSV lines (header = 1).

Servers are validated and written in chunks of :data:`CHUNK` rows with bulk INSERTs (the
server rows, then their lifecycle steps), so memory stays bounded by the chunk and the set of
serials seen; after the first bad row the rest of the file is still validated (to report every
bad row) but no longer written, and the transaction is rolled back. The rows written are those
the single-server steps in :mod:`suanli.services.fleet.servers` would write: a ``delivered``
(or ``ordered``) registration, then ``burn_in`` into the cabinet and ``available``.

Server columns: ``serial, sku`` (required), ``purchase_price, currency, supplier,
network_group, state`` (``ordered`` | ``delivered`` | ``burn_in`` | ``available``; default
``delivered``), ``cabinet`` (``SITE/CABINET``, required for ``burn_in`` and ``available``).

Order columns, one row per line (rows sharing ``number`` form one order and must agree on the
order fields): ``number, supplier, ordered_on, sku, quantity, unit_price, promised_on``
(required), ``currency, note``; as CSV or as JSON lines with the same keys (:func:`jsonl_rows`).
Order files list order lines, not servers; the rows of one
order are contiguous. They stream like server files: orders are grouped as the rows go by,
checked and written in batches of about :data:`CHUNK` rows (bounded memory: a 750,000-row file
imports in well under 300 MB and reports its last bad row).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from itertools import islice
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from suanli.core.catalog import Catalog, default_catalog
from suanli.core.clock import Clock
from suanli.core.errors import SuanliError, ValidationError
from suanli.core.fleet import ServerState, check_power_budget
from suanli.core.rowfile import (
    ErrorLog,
    FileRejected,
    ImportRejected,
    RowError,
    ascii_int,
    byte_lines,
    read_csv,
    read_jsonl,
    text_lines,
)
from suanli.services.common import currency_code, non_negative_money, optional_text, require_text
from suanli.services.fleet.procurement import NewLine, NewOrder, validate_order
from suanli.services.fleet.servers import cabinet_load, existing_serials, get_cabinet_row
from suanli.store.bulk import insert_rows
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    PurchaseOrderLineRow,
    PurchaseOrderRow,
    ServerRow,
    ServerTransitionRow,
    SupplierRow,
)

__all__ = ["ImportRejected", "ImportResult", "ImportService", "RowError", "Source"]

#: A whole file as text (API bodies) or a binary stream of lines (an open file, CLI).
Source = str | Iterable[bytes]
CHUNK = 5000
MAX_INT = 2**31 - 1

SERVER_COLUMNS = (
    "serial",
    "sku",
    "purchase_price",
    "currency",
    "supplier",
    "network_group",
    "state",
    "cabinet",
)
SERVER_REQUIRED = ("serial", "sku")
ORDER_COLUMNS = (
    "number",
    "supplier",
    "ordered_on",
    "sku",
    "quantity",
    "unit_price",
    "promised_on",
    "currency",
    "note",
)
ORDER_REQUIRED = (
    "number",
    "supplier",
    "ordered_on",
    "sku",
    "quantity",
    "unit_price",
    "promised_on",
)
IMPORT_STATES = (
    ServerState.ORDERED,
    ServerState.DELIVERED,
    ServerState.BURN_IN,
    ServerState.AVAILABLE,
)
_RACKED = (ServerState.BURN_IN, ServerState.AVAILABLE)


@dataclass(frozen=True, slots=True)
class ImportResult:
    kind: str
    rows: int
    created: list[str]


def lines_of(source: Source) -> Iterator[str]:
    return text_lines(source) if isinstance(source, str) else byte_lines(source)


def _field_of(exc: SuanliError, default: str) -> str:
    """The column a coded error points at (its first field, without any ``lines[i].`` prefix)."""
    if not exc.fields:
        return default
    return next(iter(exc.fields)).split(".")[-1]


def _check(errors: list[RowError], line: int, column: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except SuanliError as exc:
        errors.append(RowError(line, _field_of(exc, column), exc.message))
        return None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def _parse_date(value: str, field: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            "input.invalid_date",
            f"{field} must be YYYY-MM-DD, got {value!r}",
            {field: "YYYY-MM-DD"},
        ) from None


def _parse_int(value: str, field: str) -> int:
    number = ascii_int(value)
    if number is None:
        raise ValidationError(
            "input.invalid_integer",
            f"{field} must be an integer in ASCII digits, got {value!r}",
            {field: "integer"},
        )
    if abs(number) > MAX_INT:
        raise ValidationError(
            "input.out_of_range", f"{field} must be at most {MAX_INT}", {field: f"<= {MAX_INT}"}
        )
    return number


def jsonl_rows(
    lines: Iterable[str], columns: tuple[str, ...], required: tuple[str, ...], log: ErrorLog
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a JSON-lines file as ``(line, {column: stripped text})``, like :func:`read_csv`.

    Values are strings, integers or null; a float is refused (money is a decimal string).
    """
    for line, obj in read_jsonl(lines, log):
        row: dict[str, str] = dict.fromkeys(columns, "")
        errors = [RowError(line, k, "unknown column") for k in obj if k not in columns]
        for key in columns:
            value = obj.get(key)
            if isinstance(value, str):
                row[key] = value.strip()
            elif isinstance(value, int) and not isinstance(value, bool):
                row[key] = str(value)
            elif value is not None:
                errors.append(RowError(line, key, "a string or an integer is expected"))
            if key in required and not row[key] and value is None:
                errors.append(RowError(line, key, "required"))
        if errors:
            log.extend(errors)
        else:
            yield line, row


def _chunks(
    rows: Iterator[tuple[int, dict[str, str]]],
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


# --- servers --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Cabinet:
    id: int
    budget_kw: Decimal
    used_kw: Decimal


class _ServerImport:
    """Validates server rows chunk by chunk and writes the chunks while the file is clean.

    Lookups are cached per file: each supplier and cabinet is read once (cabinets locked, their
    load read once and then counted in memory), existing serials once per chunk.
    """

    def __init__(self, s: Session, clock: Clock, catalog: Catalog, actor: str, reason: str) -> None:
        self.s, self.clock, self.catalog = s, clock, catalog
        self.actor = require_text(actor, "actor", 128)
        self.reason = require_text(reason, "reason", 2000)
        self.seen: dict[str, int] = {}
        self.suppliers: dict[str, int | None] = {}
        self.cabinets: dict[str, _Cabinet | SuanliError] = {}
        self.created: list[str] = []
        self.rows = 0

    def run(self, source: Source, log: ErrorLog) -> None:
        rows = read_csv(lines_of(source), SERVER_COLUMNS, SERVER_REQUIRED, log)
        for chunk in _chunks(rows):
            self.rows += len(chunk)
            in_db = existing_serials(self.s, [row["serial"] for _, row in chunk])
            planned = []
            for line, row in chunk:
                errors: list[RowError] = []
                plan = self._validate(line, row, in_db, errors)
                log.extend(errors)
                if plan is not None and not errors:
                    planned.append(plan)
            if not log:
                self._write(planned)

    def _validate(
        self, line: int, row: dict[str, str], in_db: set[str], errors: list[RowError]
    ) -> dict[str, Any] | None:
        serial = row["serial"]
        if not serial:
            errors.append(RowError(line, "serial", "required"))
        elif len(serial) > 128:
            errors.append(RowError(line, "serial", "longer than 128 characters"))
        elif serial in self.seen:
            errors.append(RowError(line, "serial", f"duplicate of line {self.seen[serial]}"))
        elif serial in in_db:
            errors.append(RowError(line, "serial", f"server {serial!r} already exists"))
        else:
            self.seen[serial] = line
        sku = self.catalog.servers.get(row["sku"])
        if sku is None:
            errors.append(RowError(line, "sku", f"unknown server SKU {row['sku']!r}"))
        price = None
        if row.get("purchase_price"):
            price = _check(
                errors,
                line,
                "purchase_price",
                partial(non_negative_money, row["purchase_price"], "purchase_price"),
            )
        currency = _check(
            errors, line, "currency", partial(currency_code, row.get("currency"), "CNY")
        )
        network = _check(
            errors,
            line,
            "network_group",
            partial(optional_text, row.get("network_group"), "network_group", 64),
        )
        supplier_id = self._supplier(row.get("supplier", ""), line, errors)
        target, cabinet = self._placement(line, row, errors)
        if errors or sku is None or target is None:
            return None
        kw = Decimal(str(sku.nameplate_kw))
        if cabinet is not None:
            try:
                check_power_budget(cabinet.budget_kw, cabinet.used_kw, kw)
            except SuanliError as exc:
                errors.append(RowError(line, "cabinet", exc.message))
                return None
            cabinet.used_kw += kw
        return {
            "serial": serial, "sku": sku.key, "gpu_count": sku.gpus, "nameplate_kw": kw,
            "state": target.value, "purchase_price": price, "currency": currency,
            "supplier_id": supplier_id, "po_line_id": None, "network_group": network,
            "cabinet_id": cabinet.id if cabinet else None,
        }  # fmt: skip

    def _supplier(self, name: str, line: int, errors: list[RowError]) -> int | None:
        if not name:
            return None
        if name not in self.suppliers:
            self.suppliers[name] = self.s.scalar(
                select(SupplierRow.id).where(SupplierRow.name == name)
            )
        found = self.suppliers[name]
        if found is None:
            errors.append(RowError(line, "supplier", f"no supplier {name!r}"))
        return found

    def _placement(
        self, line: int, row: dict[str, str], errors: list[RowError]
    ) -> tuple[ServerState | None, _Cabinet | None]:
        state_text = row.get("state") or ServerState.DELIVERED.value
        allowed = [st.value for st in IMPORT_STATES]
        if state_text not in allowed:
            errors.append(RowError(line, "state", f"must be one of {allowed}"))
            return None, None
        target = ServerState(state_text)
        racked = target in _RACKED
        ref = row.get("cabinet", "")
        if racked and not ref:
            errors.append(RowError(line, "cabinet", f"required for state {state_text}"))
        elif ref and not racked:
            errors.append(
                RowError(line, "cabinet", f"only for burn_in/available, not {state_text}")
            )
        elif ref:
            cabinet = self._cabinet(ref)
            if isinstance(cabinet, SuanliError):
                errors.append(RowError(line, _field_of(cabinet, "cabinet"), cabinet.message))
                return None, None
            return target, cabinet
        return target, None

    def _cabinet(self, ref: str) -> _Cabinet | SuanliError:
        if ref not in self.cabinets:
            try:
                row = get_cabinet_row(self.s, ref, lock=True)
                used, _ = cabinet_load(self.s, row.id)
                self.cabinets[ref] = _Cabinet(row.id, row.power_budget_kw, used)
            except SuanliError as exc:
                self.cabinets[ref] = exc
        return self.cabinets[ref]

    def _write(self, planned: list[dict[str, Any]]) -> None:
        """Insert the servers of a clean chunk, then their lifecycle steps."""
        if not planned:
            return
        now = self.clock.now()
        for plan in planned:
            plan["created_at"] = plan["updated_at"] = now
        conn = self.s.connection()
        returned = insert_rows(conn, _SERVERS, _SERVER_TYPES, planned, ("serial", "id"))
        ids: dict[str, int] = dict(returned)
        steps: list[dict[str, Any]] = []
        for plan in planned:
            target = ServerState(plan["state"])
            steps += _steps(ids[plan["serial"]], target, plan["cabinet_id"], now)
            self.created.append(plan["serial"])
        for step in steps:
            step.update(actor=self.actor, reason=self.reason)
        insert_rows(conn, _TRANSITIONS, _TRANSITION_TYPES, steps)


_SERVERS: Table = ServerRow.__table__  # type: ignore[assignment]
_TRANSITIONS: Table = ServerTransitionRow.__table__  # type: ignore[assignment]
_SERVER_TYPES = {
    "serial": "text", "sku": "text", "gpu_count": "int", "nameplate_kw": "numeric",
    "state": "text", "purchase_price": "numeric", "currency": "text", "supplier_id": "int",
    "po_line_id": "int", "network_group": "text", "cabinet_id": "int",
    "created_at": "timestamptz", "updated_at": "timestamptz",
}  # fmt: skip
_TRANSITION_TYPES = {
    "server_id": "int", "from_state": "text", "to_state": "text", "actor": "text",
    "reason": "text", "at": "timestamptz", "cabinet_id": "int",
}  # fmt: skip


def _steps(
    server_id: int, target: ServerState, cabinet_id: int | None, at: datetime
) -> list[dict[str, Any]]:
    """The transitions an imported server goes through: registered, then racked and released."""
    first = ServerState.ORDERED if target is ServerState.ORDERED else ServerState.DELIVERED
    path: list[tuple[ServerState | None, ServerState]] = [(None, first)]
    if target in _RACKED:
        path.append((ServerState.DELIVERED, ServerState.BURN_IN))
    if target is ServerState.AVAILABLE:
        path.append((ServerState.BURN_IN, ServerState.AVAILABLE))
    return [
        {
            "server_id": server_id,
            "from_state": src.value if src else None,
            "to_state": dst.value,
            "at": at,
            "cabinet_id": cabinet_id if dst in _RACKED else None,
        }
        for src, dst in path
    ]


# --- orders ---------------------------------------------------------------------------------


def _order_from_rows(
    number: str, rows: list[tuple[int, dict[str, str]]], errors: list[RowError]
) -> NewOrder | None:
    first_line, first = rows[0]
    lines: list[NewLine] = []
    ordered_on = _check(
        errors, first_line, "ordered_on", lambda: _parse_date(first["ordered_on"], "ordered_on")
    )
    for line, row in rows:
        for col in ("supplier", "ordered_on", "currency", "note"):
            if row.get(col, "") != first.get(col, ""):
                errors.append(
                    RowError(line, col, f"differs from line {first_line} of order {number}")
                )
        qty = _check(errors, line, "quantity", partial(_parse_int, row["quantity"], "quantity"))
        price = _check(
            errors, line, "unit_price", partial(non_negative_money, row["unit_price"], "unit_price")
        )
        promised = _check(
            errors, line, "promised_on", partial(_parse_date, row["promised_on"], "promised_on")
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
            found.add(RowError(line, _field_of(exc, "number"), exc.message))
    errors.extend(sorted(found, key=lambda e: (e.line, e.column)))
    _check(errors, rows[0][0], "note", partial(optional_text, spec.note, "note", 2000))


@dataclass(frozen=True, slots=True)
class _PlannedOrder:
    spec: NewOrder
    line: int  # of its first row


class _OrderImport:
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


# --- the service ----------------------------------------------------------------------------


class ImportService:
    """CSV imports; each call is one transaction that writes every row or none."""

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

    def import_servers(self, data: Source, actor: str, source: str = "CSV") -> ImportResult:
        """Import servers from ``data`` (text or a binary stream) named ``source`` in the log."""
        with transaction(self.sessions) as s:
            job = _ServerImport(s, self.clock, self.catalog, actor, f"imported from {source}")
            log = ErrorLog()
            try:
                job.run(data, log)
            except FileRejected as exc:
                raise ImportRejected("servers", exc.errors) from None
            if log:
                raise ImportRejected.from_log("servers", log)
            return ImportResult("servers", job.rows, job.created)

    def import_orders(self, data: Source, jsonl: bool = False) -> ImportResult:
        """Import purchase orders from ``data`` (text or a binary stream; CSV, or JSON lines
        with the same columns as keys), streamed in batches."""
        with transaction(self.sessions) as s:
            job = _OrderImport(s, self.clock, self.catalog, self.currency)
            log = ErrorLog()
            read = jsonl_rows if jsonl else read_csv
            try:
                job.run(read(lines_of(data), ORDER_COLUMNS, ORDER_REQUIRED, log), log)
            except FileRejected as exc:
                raise ImportRejected("orders", exc.errors) from None
            if log:
                merged = sorted(log.first, key=lambda e: (e.line, e.column))
                last = [log.last] if log.last is not None else []
                raise ImportRejected("orders", merged + last, log.total)
            return ImportResult("orders", job.rows, job.created)
