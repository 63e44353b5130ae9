"""Metering: the on-demand price list and ingestion of usage records (GPU-seconds).

Single writer of ``prices`` and ``usage_records``.

- Ingestion is idempotent by ``event_id``: rows go in with ``INSERT ... ON CONFLICT (event_id)
  DO NOTHING`` (PostgreSQL and SQLite alike), so sending a batch again changes nothing and two
  concurrent senders of one event store it once.
- A batch is validated row by row. Bad rows (unknown customer, negative or non-numeric
  quantity, unknown SKU or class, ``ended_at`` before ``started_at``, no price for the class, a
  ``reserved`` row without a reserved contract) are rejected with their row index, event id and
  reason; good rows are stored.
- Late and out-of-order records are normal: a record belongs to the month in which it
  *started* (revenue), and is billed by the first invoice run after it arrived.
- Files (:meth:`MeteringService.ingest_file`, CSV or JSON lines) are streamed and sent in
  batches of :data:`FILE_BATCH` records, each batch its own transaction. The contract is the
  batch's: **a bad row does not reject the file**; good rows are stored, bad ones (shape errors
  found while reading -- encoding, NUL, a JSONL line that is not an object -- and the checks
  above) are reported with their line. If the run stops half-way, sending the file again
  stores the rest and nothing twice. A broken header rejects the whole file before any batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from suanli.core.billing import PRIORITY_CLASSES
from suanli.core.catalog import Catalog
from suanli.core.clock import Clock, ensure_utc
from suanli.core.errors import ValidationError
from suanli.core.money import to_decimal
from suanli.core.rowfile import (
    ErrorLog,
    FileRejected,
    ImportRejected,
    RowError,
    byte_lines,
    field_problem,
    read_csv,
    read_jsonl,
    text_lines,
)
from suanli.services.common import check_paging, ratio
from suanli.services.tenancy import SYSTEM, Principal
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import ContractRow, CustomerRow, PriceRow, UsageRecordRow

MAX_BATCH = 50000
FILE_BATCH = 5000
COUNT_CAP = 10000
USAGE_COLUMNS = ("event_id", "customer", "sku", "priority_class", "job_id", "started_at",
                 "ended_at", "gpu_seconds")  # fmt: skip
USAGE_REQUIRED = ("event_id", "customer", "sku", "started_at", "ended_at", "gpu_seconds")


@dataclass(frozen=True, slots=True)
class Price:
    sku: str
    priority_class: str
    gpu_hour_price: Decimal
    vat_rate: Decimal
    valid_from: date


@dataclass(frozen=True, slots=True)
class UsageRecord:
    event_id: str
    customer: str
    sku: str
    priority_class: str
    job_id: str
    started_at: datetime
    ended_at: datetime
    gpu_seconds: Decimal
    invoiced: bool


@dataclass(frozen=True, slots=True)
class UsagePage:
    items: list[UsageRecord]
    total: int
    total_is_exact: bool
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class Rejected:
    row: int
    event_id: str | None
    field: str
    reason: str
    code: str = "usage.invalid_record"


@dataclass(frozen=True, slots=True)
class IngestResult:
    received: int
    accepted: int
    duplicates: int
    rejected: list[Rejected]


@dataclass(frozen=True, slots=True)
class FileIngestResult:
    """A file's ingestion: counts over all batches; ``rejected`` lists the first bad rows and
    the last (``rejected_total`` counts them all)."""

    received: int
    accepted: int
    duplicates: int
    batches: int
    rejected: list[RowError]
    rejected_total: int


class PriceBook:
    """Prices by (sku, class), each a list sorted by ``valid_from``."""

    def __init__(self, rows: Iterable[PriceRow]) -> None:
        self._by_key: dict[tuple[str, str], list[PriceRow]] = {}
        for row in sorted(rows, key=lambda r: r.valid_from):
            self._by_key.setdefault((row.sku, row.priority_class), []).append(row)

    def at(self, sku: str, klass: str, day: date) -> PriceRow | None:
        found = None
        for row in self._by_key.get((sku, klass), []):
            if row.valid_from <= day:
                found = row
        return found


def load_prices(s: Session) -> PriceBook:
    return PriceBook(s.scalars(select(PriceRow)))


_COLUMNS = ("event_id", "customer_id", "sku", "priority_class", "job_id", "started_at", "ended_at",
            "gpu_seconds", "ingested_at")  # fmt: skip
_PG_TYPES = (
    "text",
    "int",
    "text",
    "text",
    "text",
    "timestamptz",
    "timestamptz",
    "numeric",
    "timestamptz",
)
#: PostgreSQL: one statement per batch, the columns sent as arrays (no giant VALUES list to parse).
_PG_UNNEST = (
    f"INSERT INTO usage_records ({', '.join(_COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f'%b::{t}[]' for t in _PG_TYPES)}) "
    "ON CONFLICT (event_id) DO NOTHING"
)


def _store(s: Session, rows: list[dict[str, Any]]) -> int:
    """Insert ``rows`` skipping known event ids; how many were new."""
    if not rows:
        return 0
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        columns = tuple([row[c] for row in rows] for c in _COLUMNS)
        driver: Any = conn.connection.driver_connection  # psycopg 3, same transaction
        with driver.cursor() as cur:
            cur.execute(_PG_UNNEST, columns)
            return int(cur.rowcount)
    stmt = _insert_ignoring_duplicates(conn.engine)
    inserted = 0
    for i in range(0, len(rows), 5000):
        inserted += len(conn.execute(stmt, rows[i : i + 5000]).all())
    return inserted


def _insert_ignoring_duplicates(engine: Engine) -> Any:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return (
        dialect.insert(UsageRecordRow)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(UsageRecordRow.id)
    )


def _dt(value: object) -> datetime:
    """An aware UTC datetime; OverflowError at the edges of the calendar
    (``0001-01-01T00:00:00+01:00`` is before year 1 in UTC)."""
    if isinstance(value, datetime):
        return ensure_utc(value)
    if isinstance(value, str):
        return ensure_utc(datetime.fromisoformat(value))
    raise ValueError("not a datetime")


def _batches(
    rows: Iterator[tuple[int, dict[str, Any]]], size: int
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    batch: list[tuple[int, dict[str, Any]]] = []
    for item in rows:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class MeteringService:
    def __init__(self, sessions: SessionFactory, clock: Clock, catalog: Catalog) -> None:
        self.sessions = sessions
        self.clock = clock
        self.catalog = catalog

    # prices

    def set_price(
        self, sku: str, priority_class: str, gpu_hour_price: Decimal | str, valid_from: date,
        vat_rate: Decimal | str = Decimal("0.06"),
    ) -> Price:  # fmt: skip
        if sku not in self.catalog.servers:
            raise ValidationError(
                "catalog.unknown_sku", f"unknown SKU {sku!r}", {"sku": sorted(self.catalog.servers)}
            )
        if priority_class not in PRIORITY_CLASSES or priority_class == "reserved":
            raise ValidationError(
                "usage.invalid_class", f"no list price for class {priority_class!r}",
                {"priority_class": [c for c in PRIORITY_CLASSES if c != "reserved"]},
            )  # fmt: skip
        price = to_decimal(gpu_hour_price, "gpu_hour_price")
        if price < 0 or price != price.quantize(Decimal("0.00000001")):
            raise ValidationError(
                "money.invalid",
                "gpu_hour_price must be >= 0 with 8 decimals at most",
                {"gpu_hour_price": ">= 0"},
            )
        vat = ratio(vat_rate, "vat_rate")
        with transaction(self.sessions) as s:
            # one upsert, not read-then-insert: identical PUTs racing each other all succeed
            # with the same row (the last writer's values win for different ones)
            dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(PriceRow).values(
                sku=sku, priority_class=priority_class, valid_from=valid_from,
                gpu_hour_price=price, vat_rate=vat, created_at=self.clock.now(),
            )  # fmt: skip
            s.execute(
                stmt.on_conflict_do_update(
                    index_elements=["sku", "priority_class", "valid_from"],
                    set_={"gpu_hour_price": price, "vat_rate": vat},
                )
            )
            row = s.scalars(
                select(PriceRow).where(
                    PriceRow.sku == sku,
                    PriceRow.priority_class == priority_class,
                    PriceRow.valid_from == valid_from,
                )
            ).one()
            return Price(
                row.sku, row.priority_class, row.gpu_hour_price, row.vat_rate, row.valid_from
            )

    def list_prices(self, sku: str | None = None) -> list[Price]:
        with transaction(self.sessions) as s:
            stmt = select(PriceRow).order_by(
                PriceRow.sku, PriceRow.priority_class, PriceRow.valid_from
            )
            if sku:
                stmt = stmt.where(PriceRow.sku == sku)
            return [
                Price(r.sku, r.priority_class, r.gpu_hour_price, r.vat_rate, r.valid_from)
                for r in s.scalars(stmt)
            ]

    # ingestion

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> IngestResult:
        """Store the valid records of a batch (idempotent by ``event_id``); report the others."""
        if len(records) > MAX_BATCH:
            raise ValidationError(
                "usage.batch_too_large",
                f"at most {MAX_BATCH} records per batch",
                {"records": f"<= {MAX_BATCH}"},
            )
        now = self.clock.now()
        with transaction(self.sessions) as s:
            codes = {str(r.get("customer")) for r in records}
            customers = dict(
                s.execute(
                    select(CustomerRow.code, CustomerRow.id).where(CustomerRow.code.in_(codes))
                ).all()
            )
            prices = load_prices(s)
            reserved = self._reserved_windows(s, customers.values())
            rows: list[dict[str, Any]] = []
            rejected: list[Rejected] = []
            seen: set[str] = set()
            for index, record in enumerate(records):
                try:
                    row = self._check(record, customers, prices, reserved)
                except ValidationError as exc:
                    name = next(iter(exc.fields), "record")
                    rejected.append(Rejected(index, _event_id(record), name, exc.message, exc.code))
                    continue
                if row["event_id"] in seen:
                    continue
                seen.add(row["event_id"])
                row["ingested_at"] = now
                rows.append(row)
            inserted = _store(s, rows)
        accepted = len(records) - len(rejected)
        return IngestResult(len(records), inserted, accepted - inserted, rejected)

    def ingest_file(
        self,
        data: str | Iterable[bytes],
        jsonl: bool,
        batch: int = FILE_BATCH,
        *,
        ingest: Callable[[Sequence[Mapping[str, Any]]], IngestResult] | None = None,
        columns: tuple[str, ...] = USAGE_COLUMNS,
        required: tuple[str, ...] = USAGE_REQUIRED,
    ) -> FileIngestResult:
        """Stream a CSV (header row, ``columns``, default :data:`USAGE_COLUMNS`) or JSON-lines
        file into ``ingest`` (default :meth:`ingest`) in batches of ``batch``; see the module
        doc for what a bad row does."""
        store = ingest or self.ingest
        log = ErrorLog()
        lines = text_lines(data) if isinstance(data, str) else byte_lines(data)
        received = accepted = duplicates = batches = checked_out = 0
        try:
            rows: Iterator[tuple[int, dict[str, Any]]] = (
                read_jsonl(lines, log) if jsonl else read_csv(lines, columns, required, log)
            )
            for chunk in _batches(rows, min(batch, MAX_BATCH)):
                result = store([record for _, record in chunk])
                batches += 1
                received += result.received
                accepted += result.accepted
                duplicates += result.duplicates
                checked_out += len(result.rejected)
                for r in result.rejected:
                    event = f" (event {r.event_id})" if r.event_id else ""
                    log.add(RowError(chunk[r.row][0], r.field, f"{r.reason}{event} [{r.code}]"))
        except FileRejected as exc:
            raise ImportRejected("usage", exc.errors) from None
        bad = sorted(log.reported(), key=lambda e: e.line)
        unread = log.total - checked_out  # rows refused while reading, never sent
        return FileIngestResult(received + unread, accepted, duplicates, batches, bad, log.total)

    def _reserved_windows(
        self, s: Session, customer_ids: Iterable[int]
    ) -> dict[tuple[int, str], list[tuple[date, date]]]:
        windows: dict[tuple[int, str], list[tuple[date, date]]] = {}
        ids = list(customer_ids)
        if not ids:
            return windows
        rows = s.execute(
            select(
                ContractRow.customer_id,
                ContractRow.sku,
                ContractRow.start_date,
                ContractRow.end_date,
            ).where(ContractRow.kind == "reserved", ContractRow.customer_id.in_(ids))
        )
        for cid, sku, start, end in rows:
            windows.setdefault((cid, sku), []).append((start, end))
        return windows

    def _check(
        self,
        record: Mapping[str, Any],
        customers: Mapping[str, int],
        prices: PriceBook,
        reserved: Mapping[tuple[int, str], list[tuple[date, date]]],
    ) -> dict[str, Any]:
        def bad(field: str, reason: str) -> ValidationError:
            return ValidationError("usage.invalid_record", reason, {field: reason})

        event_id = _event_id(record)
        if not event_id or len(event_id) > 128:
            raise bad("event_id", "event_id is required (at most 128 characters)")
        job = str(record.get("job_id") or "")[:128]
        for name, text in (("event_id", event_id), ("job_id", job)):
            problem = field_problem(text)
            if problem:
                raise bad(name, f"{name} {problem}")
        customer_id = customers.get(str(record.get("customer")))
        if customer_id is None:
            raise bad("customer", f"unknown customer {record.get('customer')!r}")
        sku = str(record.get("sku"))
        if sku not in self.catalog.servers:
            raise bad("sku", f"unknown SKU {sku!r}")
        klass = str(record.get("priority_class", "standard"))
        if klass not in PRIORITY_CLASSES:
            raise bad("priority_class", f"unknown class {klass!r}")
        try:
            seconds = to_decimal(record.get("gpu_seconds"), "gpu_seconds")
        except ValidationError:
            raise bad("gpu_seconds", "gpu_seconds must be a number") from None
        if seconds < 0:
            raise bad("gpu_seconds", "gpu_seconds must be >= 0")
        if seconds >= Decimal("1e15") or seconds != seconds.quantize(Decimal("0.001")):
            raise bad("gpu_seconds", "gpu_seconds must be < 1e15 with 3 decimals at most")
        try:
            started, ended = _dt(record.get("started_at")), _dt(record.get("ended_at"))
        except (ValueError, TypeError, OverflowError, ValidationError):
            raise bad(
                "started_at",
                "started_at and ended_at must be ISO 8601 datetimes within years 1-9999 UTC",
            ) from None
        if ended < started:
            raise bad("ended_at", "ended_at is before started_at")
        day = started.date()
        if klass == "reserved":
            windows = reserved.get((customer_id, sku), [])
            if not any(a <= day < b for a, b in windows):
                raise bad("priority_class", f"no reserved {sku} contract covers {day}")
        elif prices.at(sku, klass, day) is None:
            raise bad("priority_class", f"no {klass} price for {sku} on {day}")
        return {
            "event_id": event_id, "customer_id": customer_id, "sku": sku, "priority_class": klass,
            "job_id": job, "started_at": started, "ended_at": ended, "gpu_seconds": seconds,
        }  # fmt: skip

    # reading

    def list_usage(
        self,
        principal: Principal = SYSTEM,
        customer: str | None = None,
        sku: str | None = None,
        job_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> UsagePage:
        """Usage records by start time. ``total`` is exact up to :data:`COUNT_CAP` records;
        beyond that ``total_is_exact`` is false (counting millions of rows per page is not free)."""
        check_paging(limit, offset)
        customer = principal.scope(customer)
        where = []
        with transaction(self.sessions) as s:
            if customer:
                cid = s.scalar(select(CustomerRow.id).where(CustomerRow.code == customer))
                if cid is None:
                    return UsagePage([], 0, True, limit, offset)
                where.append(UsageRecordRow.customer_id == cid)
            if sku:
                where.append(UsageRecordRow.sku == sku)
            if job_id:
                where.append(UsageRecordRow.job_id == job_id)
            if since:
                where.append(UsageRecordRow.started_at >= ensure_utc(since))
            if until:
                where.append(UsageRecordRow.started_at < ensure_utc(until))
            capped = select(UsageRecordRow.id).where(*where).limit(COUNT_CAP + 1).subquery()
            total = s.scalar(select(func.count()).select_from(capped)) or 0
            rows = s.execute(
                select(UsageRecordRow, CustomerRow.code)
                .join(CustomerRow, UsageRecordRow.customer_id == CustomerRow.id)
                .where(*where)
                .order_by(UsageRecordRow.started_at, UsageRecordRow.id)
                .limit(limit)
                .offset(offset)
            )
            items = [
                UsageRecord(
                    r.event_id,
                    code,
                    r.sku,
                    r.priority_class,
                    r.job_id,
                    r.started_at,
                    r.ended_at,
                    r.gpu_seconds,
                    r.invoice_id is not None,
                )
                for r, code in rows
            ]
            return UsagePage(items, min(total, COUNT_CAP), total <= COUNT_CAP, limit, offset)


def _event_id(record: Mapping[str, Any]) -> str | None:
    value = record.get("event_id")
    return str(value).strip() if value is not None else None
