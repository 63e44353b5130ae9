"""Server import: validates server rows chunk by chunk (suppliers, cabinets and their power
budgets, duplicate serials) and bulk-writes each clean chunk with its lifecycle steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from suanli.core.catalog import Catalog
from suanli.core.clock import Clock
from suanli.core.errors import SuanliError
from suanli.core.fleet import ServerState, check_power_budget
from suanli.core.rowfile import (
    ErrorLog,
    RowError,
    read_csv,
)
from suanli.services.common import currency_code, non_negative_money, optional_text, require_text
from suanli.services.fleet.import_rows import (
    IMPORT_STATES,
    RACKED,
    SERVER_COLUMNS,
    SERVER_REQUIRED,
    Source,
    check,
    chunks,
    field_of,
    lines_of,
)
from suanli.services.fleet.servers import cabinet_load, existing_serials, get_cabinet_row
from suanli.store.bulk import insert_rows
from suanli.store.models import (
    ServerRow,
    ServerTransitionRow,
    SupplierRow,
)

# --- servers --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Cabinet:
    id: int
    budget_kw: Decimal
    used_kw: Decimal


class ServerImport:
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
        for chunk in chunks(rows):
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
            price = check(
                errors,
                line,
                "purchase_price",
                partial(non_negative_money, row["purchase_price"], "purchase_price"),
            )
        currency = check(
            errors, line, "currency", partial(currency_code, row.get("currency"), "CNY")
        )
        network = check(
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
        racked = target in RACKED
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
                errors.append(RowError(line, field_of(cabinet, "cabinet"), cabinet.message))
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
    if target in RACKED:
        path.append((ServerState.DELIVERED, ServerState.BURN_IN))
    if target is ServerState.AVAILABLE:
        path.append((ServerState.BURN_IN, ServerState.AVAILABLE))
    return [
        {
            "server_id": server_id,
            "from_state": src.value if src else None,
            "to_state": dst.value,
            "at": at,
            "cabinet_id": cabinet_id if dst in RACKED else None,
        }
        for src, dst in path
    ]
