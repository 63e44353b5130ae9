"""Token metering: the inference price list and ingestion of token usage records (issue 15).

Single writer of ``inference_prices`` and of new ``token_usage_records`` (the invoice run sets
their ``invoice_id``, see :mod:`suanli.services.billing.token_ledger`).

- Prices are versioned by ``valid_from`` like GPU-hour prices: setting a price for an existing
  (model, valid_from) replaces that version; a record is priced by the version valid on the UTC
  day it started (:mod:`suanli.core.token_pricing`).
- Ingestion is idempotent by ``event_id`` (``INSERT ... ON CONFLICT (event_id) DO NOTHING``) and
  validated row by row: bad rows come back with their row index, event id, field, a stable code
  and a reason; good rows are stored. The GPU-usage paths (API ``/usage/batches``, ``suanli
  usage ingest`` CSV/JSONL) accept token records too: :func:`ingest_usage` routes each record by
  its shape (a ``model`` or token count field makes it a token record).
- Vocabulary: ``input_tokens`` counts all prompt tokens, ``cache_hit_tokens`` the part of them
  served from the prefix cache (so ``cache_hit_tokens <= input_tokens``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from suanli.core.clock import Clock, ensure_utc
from suanli.core.errors import ValidationError
from suanli.core.money import to_decimal
from suanli.core.token_pricing import (
    IT_SERVICES_VAT,
    InferencePrice,
    InferencePriceBook,
)
from suanli.services.billing.metering import (
    COUNT_CAP,
    MAX_BATCH,
    USAGE_COLUMNS,
    FileIngestResult,
    IngestResult,
    MeteringService,
    Rejected,
)
from suanli.services.common import check_paging, ratio
from suanli.services.tenancy import SYSTEM, Principal
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import CustomerRow, InferencePriceRow, TokenUsageRow

MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,63}$")
MAX_TOKENS = 10**15
TOKEN_FIELDS = ("model", "input_tokens", "cache_hit_tokens", "output_tokens")


@dataclass(frozen=True, slots=True)
class TokenUsage:
    event_id: str
    customer: str
    model: str
    started_at: datetime
    ended_at: datetime
    input_tokens: int
    cache_hit_tokens: int
    output_tokens: int
    invoiced: bool


@dataclass(frozen=True, slots=True)
class TokenUsagePage:
    items: list[TokenUsage]
    total: int
    total_is_exact: bool
    limit: int
    offset: int


@dataclass(frozen=True, slots=True)
class DailyTokens:
    """Tokens a customer used of one model on one UTC day."""

    day: date
    model: str
    requests: int
    input_tokens: int
    cache_hit_tokens: int
    output_tokens: int


def to_price(row: InferencePriceRow) -> InferencePrice:
    return InferencePrice(
        row.id, row.model, row.valid_from, row.input_miss_per_m, row.input_hit_per_m,
        row.output_per_m, row.night_discount, row.night_start, row.night_end,
        row.utc_offset_minutes, row.vat_rate,
    )  # fmt: skip


def load_token_prices(s: Session) -> InferencePriceBook:
    return InferencePriceBook(to_price(r) for r in s.scalars(select(InferencePriceRow)))


def is_token_record(record: Mapping[str, Any]) -> bool:
    return any(record.get(name) not in (None, "") for name in TOKEN_FIELDS)


def _per_m(value: object, name: str) -> Decimal:
    price = to_decimal(value, name)
    if price < 0 or price != price.quantize(Decimal("0.00000001")) or price >= 10**12:
        raise ValidationError(
            "money.invalid", f"{name} must be >= 0 with 8 decimals at most", {name: ">= 0"}
        )
    return price


def _clock_time(value: time | str, name: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            "input.invalid_time", f"{name} must be HH:MM", {name: "HH:MM"}
        ) from None


def _count(record: Mapping[str, Any], name: str, default: int | None = None) -> int:
    """A token count: a non-negative integer (an int or a string of digits)."""
    value = record.get(name)
    if value is None or value == "":
        if default is not None:
            return default
        raise _bad(name, "tokens.missing_count", f"{name} is required")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(name, "tokens.invalid_count", f"{name} must be a whole number")
    text = str(value).strip()
    if not text.isdigit():
        raise _bad(name, "tokens.invalid_count", f"{name} must be a whole number >= 0")
    number = int(text)
    if number >= MAX_TOKENS:
        raise _bad(name, "tokens.invalid_count", f"{name} must be < {MAX_TOKENS}")
    return number


def _bad(name: str, code: str, reason: str) -> ValidationError:
    return ValidationError(code, reason, {name: reason})


def _dt(value: object, name: str) -> datetime:
    try:
        if isinstance(value, datetime):
            return ensure_utc(value)
        if isinstance(value, str):
            return ensure_utc(datetime.fromisoformat(value))
    except ValueError:
        pass
    raise _bad(name, "tokens.invalid_time", f"{name} must be an ISO 8601 datetime")


def _event_id(record: Mapping[str, Any]) -> str | None:
    value = record.get("event_id")
    return str(value).strip() if value is not None else None


class TokenMeteringService:
    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    # prices

    def set_price(
        self,
        model: str,
        input_miss_per_m: Decimal | str,
        input_hit_per_m: Decimal | str,
        output_per_m: Decimal | str,
        valid_from: date,
        night_discount: Decimal | str = Decimal(0),
        night_start: time | str = time(0, 30),
        night_end: time | str = time(8, 30),
        utc_offset_minutes: int = 480,
        vat_rate: Decimal | str = IT_SERVICES_VAT,
    ) -> InferencePrice:
        """Set (or replace) the version of ``model``'s token prices valid from ``valid_from``."""
        if not MODEL_NAME.match(model):
            raise ValidationError(
                "tokens.invalid_model",
                f"invalid model name {model!r}",
                {"model": MODEL_NAME.pattern},
            )
        if not -720 <= utc_offset_minutes <= 840:
            raise ValidationError(
                "input.out_of_range", "utc_offset_minutes must be -720..840",
                {"utc_offset_minutes": "-720..840"},
            )  # fmt: skip
        values = dict(
            input_miss_per_m=_per_m(input_miss_per_m, "input_miss_per_m"),
            input_hit_per_m=_per_m(input_hit_per_m, "input_hit_per_m"),
            output_per_m=_per_m(output_per_m, "output_per_m"),
            night_discount=ratio(night_discount, "night_discount"),
            night_start=_clock_time(night_start, "night_start"),
            night_end=_clock_time(night_end, "night_end"),
            utc_offset_minutes=utc_offset_minutes,
            vat_rate=ratio(vat_rate, "vat_rate"),
        )
        with transaction(self.sessions) as s:
            row = s.scalars(
                select(InferencePriceRow).where(
                    InferencePriceRow.model == model, InferencePriceRow.valid_from == valid_from
                )
            ).one_or_none()
            if row is None:
                row = InferencePriceRow(model=model, valid_from=valid_from)
                s.add(row)
            for name, value in values.items():
                setattr(row, name, value)
            row.created_at = self.clock.now()
            s.flush()
            return to_price(row)

    def list_prices(self, model: str | None = None) -> list[InferencePrice]:
        with transaction(self.sessions) as s:
            stmt = select(InferencePriceRow).order_by(
                InferencePriceRow.model, InferencePriceRow.valid_from
            )
            if model:
                stmt = stmt.where(InferencePriceRow.model == model)
            return [to_price(r) for r in s.scalars(stmt)]

    # ingestion

    def ingest(self, records: Sequence[Mapping[str, Any]]) -> IngestResult:
        """Store the valid token records of a batch (idempotent by ``event_id``)."""
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
            prices = load_token_prices(s)
            rows: list[dict[str, Any]] = []
            rejected: list[Rejected] = []
            seen: set[str] = set()
            for index, record in enumerate(records):
                try:
                    row = _check(record, customers, prices)
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

    # reading

    def list_usage(
        self,
        principal: Principal = SYSTEM,
        customer: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> TokenUsagePage:
        """Token records by start time (``total`` exact up to :data:`COUNT_CAP`)."""
        check_paging(limit, offset)
        with transaction(self.sessions) as s:
            where = _filters(s, principal.scope(customer), model, since, until)
            if where is None:
                return TokenUsagePage([], 0, True, limit, offset)
            capped = select(TokenUsageRow.id).where(*where).limit(COUNT_CAP + 1).subquery()
            total = s.scalar(select(func.count()).select_from(capped)) or 0
            rows = s.execute(
                select(TokenUsageRow, CustomerRow.code)
                .join(CustomerRow, TokenUsageRow.customer_id == CustomerRow.id)
                .where(*where)
                .order_by(TokenUsageRow.started_at, TokenUsageRow.id)
                .limit(limit)
                .offset(offset)
            )
            items = [
                TokenUsage(
                    r.event_id,
                    code,
                    r.model,
                    r.started_at,
                    r.ended_at,
                    r.input_tokens,
                    r.cache_hit_tokens,
                    r.output_tokens,
                    r.invoice_id is not None,
                )
                for r, code in rows
            ]
        return TokenUsagePage(items, min(total, COUNT_CAP), total <= COUNT_CAP, limit, offset)

    def daily(
        self,
        principal: Principal = SYSTEM,
        customer: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[DailyTokens]:
        """Tokens by UTC day (of the start time) and model, summed in the database."""
        with transaction(self.sessions) as s:
            where = _filters(s, principal.scope(customer), None, since, until)
            if where is None:
                return []
            column = TokenUsageRow.started_at
            day = (
                func.date(column)  # stored as naive UTC on SQLite
                if s.get_bind().dialect.name == "sqlite"
                else func.date(func.timezone("UTC", column))
            )
            rows = s.execute(
                select(
                    day, TokenUsageRow.model, func.count(),
                    func.sum(TokenUsageRow.input_tokens), func.sum(TokenUsageRow.cache_hit_tokens),
                    func.sum(TokenUsageRow.output_tokens),
                )
                .where(*where)
                .group_by(day, TokenUsageRow.model)
                .order_by(day, TokenUsageRow.model)
            ).all()  # fmt: skip
        return [
            DailyTokens(
                d if isinstance(d, date) else date.fromisoformat(str(d)),
                m,
                int(n),
                int(i),
                int(h),
                int(o),
            )
            for d, m, n, i, h, o in rows
        ]


def _filters(
    s: Session, customer: str | None, model: str | None, since: datetime | None,
    until: datetime | None,
) -> list[Any] | None:  # fmt: skip
    """WHERE clauses of a token-usage query; ``None`` when the customer does not exist."""
    where: list[Any] = []
    if customer:
        cid = s.scalar(select(CustomerRow.id).where(CustomerRow.code == customer))
        if cid is None:
            return None
        where.append(TokenUsageRow.customer_id == cid)
    if model:
        where.append(TokenUsageRow.model == model)
    if since:
        where.append(TokenUsageRow.started_at >= ensure_utc(since))
    if until:
        where.append(TokenUsageRow.started_at < ensure_utc(until))
    return where


def _check(
    record: Mapping[str, Any], customers: Mapping[str, int], prices: InferencePriceBook
) -> dict[str, Any]:
    event_id = _event_id(record)
    if not event_id or len(event_id) > 128:
        raise _bad("event_id", "tokens.invalid_event_id", "event_id is required (at most 128 characters)")  # fmt: skip
    customer_id = customers.get(str(record.get("customer")))
    if customer_id is None:
        raise _bad("customer", "tokens.unknown_customer", f"unknown customer {record.get('customer')!r}")  # fmt: skip
    model = str(record.get("model") or "")
    if not MODEL_NAME.match(model):
        raise _bad("model", "tokens.invalid_model", f"invalid model name {model!r}")
    counts = {
        "input_tokens": _count(record, "input_tokens"),
        "cache_hit_tokens": _count(record, "cache_hit_tokens", default=0),
        "output_tokens": _count(record, "output_tokens"),
    }
    if counts["cache_hit_tokens"] > counts["input_tokens"]:
        raise _bad("cache_hit_tokens", "tokens.hits_exceed_input",
                   "cache_hit_tokens exceeds input_tokens (input counts every prompt token)")  # fmt: skip
    started = _dt(record.get("started_at"), "started_at")
    ended = _dt(record.get("ended_at") or record.get("started_at"), "ended_at")
    if ended < started:
        raise _bad("ended_at", "tokens.ended_before_start", "ended_at is before started_at")
    if prices.at(model, started.date()) is None:
        raise _bad("model", "tokens.no_price", f"no token price for {model} on {started.date()}")
    return {
        "event_id": event_id, "customer_id": customer_id, "model": model,
        "started_at": started, "ended_at": ended, **counts,
    }  # fmt: skip


_COLUMNS = ("event_id", "customer_id", "model", "started_at", "ended_at", "input_tokens",
            "cache_hit_tokens", "output_tokens", "ingested_at")  # fmt: skip
_PG_TYPES = ("text", "int", "text", "timestamptz", "timestamptz", "bigint", "bigint", "bigint",
             "timestamptz")  # fmt: skip
#: PostgreSQL: one statement per batch, the columns sent as arrays (as for GPU usage records).
_PG_UNNEST = (
    f"INSERT INTO token_usage_records ({', '.join(_COLUMNS)}) "
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
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = (
        dialect.insert(TokenUsageRow)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(TokenUsageRow.id)
    )
    inserted = 0
    for i in range(0, len(rows), 5000):
        inserted += len(conn.execute(stmt, rows[i : i + 5000]).all())
    return inserted


def ingest_usage(
    gpu: MeteringService, tokens: TokenMeteringService, records: Sequence[Mapping[str, Any]]
) -> IngestResult:
    """Ingest a batch that may mix GPU-usage and token records, each kind by its service.

    Rejected rows keep their index in ``records``. The two kinds commit separately; both are
    idempotent, so sending the batch again after a failure is always safe.
    """
    if len(records) > MAX_BATCH:
        raise ValidationError(
            "usage.batch_too_large",
            f"at most {MAX_BATCH} records per batch",
            {"records": f"<= {MAX_BATCH}"},
        )
    token_rows = [i for i, r in enumerate(records) if is_token_record(r)]
    if not token_rows:
        return gpu.ingest(records)
    if len(token_rows) == len(records):
        return tokens.ingest(records)
    picked = set(token_rows)
    gpu_rows = [i for i in range(len(records)) if i not in picked]
    a = gpu.ingest([records[i] for i in gpu_rows])
    b = tokens.ingest([records[i] for i in token_rows])
    rejected = [replace(r, row=gpu_rows[r.row]) for r in a.rejected]
    rejected += [replace(r, row=token_rows[r.row]) for r in b.rejected]
    return IngestResult(
        len(records),
        a.accepted + b.accepted,
        a.duplicates + b.duplicates,
        sorted(rejected, key=lambda r: r.row),
    )


#: CSV columns of a usage file that may mix GPU-usage and token records
MIXED_COLUMNS = (*USAGE_COLUMNS, *(f for f in TOKEN_FIELDS if f not in USAGE_COLUMNS))
MIXED_REQUIRED = ("event_id", "customer", "started_at")


def ingest_usage_file(
    gpu: MeteringService, tokens: TokenMeteringService, data: Any, jsonl: bool
) -> FileIngestResult:
    """Stream a usage file that may mix GPU-usage and token records (each record by its kind,
    :func:`ingest_usage`), in batches; bad rows come back with their line."""
    return gpu.ingest_file(
        data,
        jsonl,
        ingest=lambda records: ingest_usage(gpu, tokens, records),
        columns=MIXED_COLUMNS,
        required=MIXED_REQUIRED,
    )
