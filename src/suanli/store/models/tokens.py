"""Inference product tables (issue 15): the token price list and token usage records.

- ``inference_prices``: one row per (model, valid_from); CNY per million tokens for each tier
  (input cache miss, input cache hit, output), a night discount over a local time window, and
  the VAT rate. Versioned like ``prices``: the row valid on a record's start day prices it.
- ``token_usage_records``: tokens of one request (or one aggregate) of a customer and model.
  ``event_id`` is unique, so ingestion is ``INSERT ... ON CONFLICT DO NOTHING``;
  ``cache_hit_tokens <= input_tokens``; ``invoice_id`` is set by the invoice run that billed it.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from suanli.store.base import Base, Rate, UTCDateTime
from suanli.store.models.leasing import Ratio


class InferencePriceRow(Base):
    __tablename__ = "inference_prices"
    __table_args__ = (
        UniqueConstraint("model", "valid_from"),
        CheckConstraint(
            "input_miss_per_m >= 0 AND input_hit_per_m >= 0 AND output_per_m >= 0",
            name="prices_non_negative",
        ),
        CheckConstraint("night_discount >= 0 AND night_discount <= 1", name="discount_fraction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[date] = mapped_column(Date)
    input_miss_per_m: Mapped[Decimal] = mapped_column(Rate)
    input_hit_per_m: Mapped[Decimal] = mapped_column(Rate)
    output_per_m: Mapped[Decimal] = mapped_column(Rate)
    night_discount: Mapped[Decimal] = mapped_column(Ratio)
    night_start: Mapped[time] = mapped_column(Time)
    night_end: Mapped[time] = mapped_column(Time)
    utc_offset_minutes: Mapped[int] = mapped_column(Integer)
    vat_rate: Mapped[Decimal] = mapped_column(Ratio)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TokenUsageRow(Base):
    __tablename__ = "token_usage_records"
    __table_args__ = (
        CheckConstraint(
            "input_tokens >= 0 AND cache_hit_tokens >= 0 AND output_tokens >= 0",
            name="tokens_non_negative",
        ),
        CheckConstraint("cache_hit_tokens <= input_tokens", name="hits_within_input"),
        Index("ix_token_usage_records_customer_started", "customer_id", "started_at"),
        Index("ix_token_usage_records_started_id", "started_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    model: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    input_tokens: Mapped[int] = mapped_column(BigInteger)
    cache_hit_tokens: Mapped[int] = mapped_column(BigInteger)
    output_tokens: Mapped[int] = mapped_column(BigInteger)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
