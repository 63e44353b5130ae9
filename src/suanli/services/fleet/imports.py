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

from suanli.core.catalog import Catalog, default_catalog
from suanli.core.clock import Clock
from suanli.core.rowfile import (
    ErrorLog,
    FileRejected,
    ImportRejected,
    RowError,
    read_csv,
)
from suanli.services.fleet.import_orders import OrderImport
from suanli.services.fleet.import_rows import (
    CHUNK,
    ORDER_COLUMNS,
    ORDER_REQUIRED,
    ImportResult,
    Source,
    jsonl_rows,
    lines_of,
)
from suanli.services.fleet.import_servers import ServerImport
from suanli.store.db import SessionFactory, transaction

__all__ = ["CHUNK", "ImportRejected", "ImportResult", "ImportService", "RowError", "Source"]

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
            job = ServerImport(s, self.clock, self.catalog, actor, f"imported from {source}")
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
            job = OrderImport(s, self.clock, self.catalog, self.currency)
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
