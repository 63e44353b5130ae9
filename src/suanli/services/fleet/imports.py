"""Bulk CSV import of servers and of purchase orders: all rows or nothing.

Every row is validated on its own (shape, references to suppliers/cabinets/orders, duplicates
inside the file and against the database). Then all rows are written in one transaction through
the same steps as single writes (:mod:`suanli.services.fleet.servers`, :mod:`suanli.services.fleet.procurement`);
a failure there (a cabinet's power budget, say) is reported against its row too. If any row is
bad, nothing is written and :class:`ImportRejected` (code ``import.invalid_rows``) lists every
bad row as ``{line, column, reason}``. Line numbers are physical CSV lines (header = line 1).

Server columns: ``serial, sku`` (required), ``purchase_price, currency, supplier,
network_group, state`` (``ordered`` | ``delivered`` | ``burn_in`` | ``available``; default
``delivered``), ``cabinet`` (``SITE/CABINET``, required for ``burn_in`` and ``available``).

Order columns, one row per line (rows sharing ``number`` form one order and must agree on the
order fields): ``number, supplier, ordered_on, sku, quantity, unit_price, promised_on``
(required), ``currency, note``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.core.catalog import Catalog, default_catalog
from suanli.core.clock import Clock
from suanli.core.errors import SuanliError, ValidationError
from suanli.core.fleet import ServerState
from suanli.services.common import currency_code, non_negative_money
from suanli.services.fleet.procurement import NewLine, NewOrder, create_order_in, validate_order
from suanli.services.fleet.servers import (
    NewServer,
    create_server_in,
    existing_serials,
    get_cabinet_row,
    transition_in,
)
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import PurchaseOrderRow, SupplierRow

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


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason: str


class ImportRejected(ValidationError):
    """The file has bad rows; ``rows`` lists each one. Nothing was written."""

    def __init__(self, kind: str, rows: list[RowError]) -> None:
        super().__init__(
            "import.invalid_rows",
            f"{len(rows)} problem(s) in the {kind} file; nothing was imported",
            {"rows": [{"line": r.line, "column": r.column, "reason": r.reason} for r in rows]},
        )
        self.rows = rows


@dataclass(frozen=True, slots=True)
class ImportResult:
    kind: str
    rows: int
    created: list[str]


def _read(
    text: str, kind: str, columns: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of ``text`` with their physical line numbers; a malformed file is a row error.

    The text is read with ``newline=""`` as the :mod:`csv` module requires, so ``\\n``, ``\\r\\n``
    and a bare ``\\r`` all end a record (and may appear inside quoted fields).
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        yield from _read_rows(reader, kind, columns, required)
    except csv.Error as exc:
        where = max(reader.reader.line_num, 1)  # the line being read, not the last good one
        raise ImportRejected(kind, [RowError(where, "*", f"malformed CSV: {exc}")]) from None


def _read_rows(
    reader: csv.DictReader[str], kind: str, columns: tuple[str, ...], required: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    header = [h.strip() for h in (reader.fieldnames or [])]
    errors = [RowError(1, c, "missing column") for c in required if c not in header]
    errors += [RowError(1, c, "unknown column") for c in header if c not in columns]
    if errors:
        raise ImportRejected(kind, errors)
    reader.fieldnames = header
    line = 1
    for raw in reader:
        line = reader.line_num
        if None in raw:
            raise ImportRejected(kind, [RowError(line, "*", "more fields than columns")])
        yield line, {k: (v or "").strip() for k, v in raw.items()}
    if line == 1:
        raise ImportRejected(kind, [RowError(1, "*", "no data rows")])


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


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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
    try:
        return int(value)
    except ValueError:
        raise ValidationError(
            "input.invalid_integer",
            f"{field} must be an integer, got {value!r}",
            {field: "integer"},
        ) from None


# --- servers --------------------------------------------------------------------------------


def _validate_server_row(
    s: Session,
    catalog: Catalog,
    line: int,
    row: dict[str, str],
    seen: dict[str, int],
    in_db: set[str],
) -> list[RowError]:
    errors: list[RowError] = []
    serial = row["serial"]
    if not serial:
        errors.append(RowError(line, "serial", "required"))
    elif serial in seen:
        errors.append(RowError(line, "serial", f"duplicate of line {seen[serial]}"))
    elif serial in in_db:
        errors.append(RowError(line, "serial", f"server {serial!r} already exists"))
    seen.setdefault(serial, line)
    if row["sku"] not in catalog.servers:
        errors.append(RowError(line, "sku", f"unknown server SKU {row['sku']!r}"))
    if row.get("purchase_price"):
        _check(
            errors,
            line,
            "purchase_price",
            lambda: non_negative_money(row["purchase_price"], "purchase_price"),
        )
    _check(errors, line, "currency", lambda: currency_code(row.get("currency"), "CNY"))
    supplier = row.get("supplier", "")
    if (
        supplier
        and not s.scalars(select(SupplierRow.id).where(SupplierRow.name == supplier)).first()
    ):
        errors.append(RowError(line, "supplier", f"no supplier {supplier!r}"))
    state_text = row.get("state") or ServerState.DELIVERED.value
    allowed = [st.value for st in IMPORT_STATES]
    if state_text not in allowed:
        errors.append(RowError(line, "state", f"must be one of {allowed}"))
        return errors
    racked = ServerState(state_text) in (ServerState.BURN_IN, ServerState.AVAILABLE)
    cabinet = row.get("cabinet", "")
    if racked and not cabinet:
        errors.append(RowError(line, "cabinet", f"required for state {state_text}"))
    elif cabinet and not racked:
        errors.append(RowError(line, "cabinet", f"only for burn_in/available, not {state_text}"))
    elif cabinet:
        _check(errors, line, "cabinet", lambda: get_cabinet_row(s, cabinet))
    return errors


def _write_server_row(
    s: Session, clock: Clock, catalog: Catalog, row: dict[str, str], actor: str, reason: str
) -> str:
    target = ServerState(row.get("state") or ServerState.DELIVERED.value)
    initial = ServerState.ORDERED if target is ServerState.ORDERED else ServerState.DELIVERED
    spec = NewServer(
        serial=row["serial"],
        sku=row["sku"],
        purchase_price=row.get("purchase_price") or None,
        currency=row.get("currency") or None,
        supplier=row.get("supplier") or None,
        network_group=row.get("network_group") or None,
        state=initial,
    )
    server = create_server_in(s, clock, catalog, spec, actor, reason, check_unique=False)
    if target in (ServerState.BURN_IN, ServerState.AVAILABLE):
        transition_in(s, clock, server, ServerState.BURN_IN, actor, reason, row["cabinet"])
    if target is ServerState.AVAILABLE:
        transition_in(s, clock, server, ServerState.AVAILABLE, actor, reason)
    return server.serial


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


def _validate_order(
    s: Session,
    catalog: Catalog,
    spec: NewOrder,
    rows: list[tuple[int, dict[str, str]]],
    currency: str,
    errors: list[RowError],
) -> None:
    """Validate each line on its own so that every bad row is reported, not just the first."""
    found: set[RowError] = set()
    for (line, _), new_line in zip(rows, spec.lines, strict=True):
        try:
            validate_order(catalog, replace(spec, lines=[new_line]), currency)
        except SuanliError as exc:
            found.add(RowError(line, _field_of(exc, "number"), exc.message))
    errors.extend(sorted(found, key=lambda e: (e.line, e.column)))
    first_line = rows[0][0]
    if not s.scalars(select(SupplierRow.id).where(SupplierRow.name == spec.supplier)).first():
        errors.append(RowError(first_line, "supplier", f"no supplier {spec.supplier!r}"))
    if s.scalars(select(PurchaseOrderRow.id).where(PurchaseOrderRow.number == spec.number)).first():
        errors.append(RowError(first_line, "number", f"purchase order {spec.number!r} exists"))


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

    def import_servers(self, text: str, actor: str, source: str = "CSV") -> ImportResult:
        reason = f"imported from {source}"
        with transaction(self.sessions) as s:
            rows = list(_read(text, "servers", SERVER_COLUMNS, SERVER_REQUIRED))
            errors: list[RowError] = []
            seen: dict[str, int] = {}
            in_db = existing_serials(s, [row["serial"] for _, row in rows])
            for line, row in rows:
                errors += _validate_server_row(s, self.catalog, line, row, seen, in_db)
            if errors:
                raise ImportRejected("servers", errors)
            created: list[str] = []
            with s.no_autoflush:  # batch the inserts; racking flushes before its power check
                for line, row in rows:
                    write = partial(
                        _write_server_row, s, self.clock, self.catalog, row, actor, reason
                    )
                    serial = _check(errors, line, "cabinet", write)
                    if serial:
                        created.append(serial)
            if errors:
                raise ImportRejected("servers", errors)
            return ImportResult("servers", len(rows), created)

    def import_orders(self, text: str) -> ImportResult:
        with transaction(self.sessions) as s:
            grouped: dict[str, list[tuple[int, dict[str, str]]]] = {}
            errors: list[RowError] = []
            for line, row in _read(text, "orders", ORDER_COLUMNS, ORDER_REQUIRED):
                if not row["number"]:
                    errors.append(RowError(line, "number", "required"))
                    continue
                grouped.setdefault(row["number"], []).append((line, row))
            specs: list[NewOrder] = []
            for number, rows in grouped.items():
                spec = _order_from_rows(number, rows, errors)
                if spec is not None:
                    _validate_order(s, self.catalog, spec, rows, self.currency, errors)
                    specs.append(spec)
            if errors:
                raise ImportRejected("orders", sorted(errors, key=lambda e: (e.line, e.column)))
            for spec in specs:
                create_order_in(s, self.clock, self.catalog, spec, self.currency)
            return ImportResult(
                "orders", sum(len(r) for r in grouped.values()), [sp.number for sp in specs]
            )
