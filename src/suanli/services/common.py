"""Helpers shared by services: pagination, text checks, effective dates and ``Page``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from suanli.core.errors import ValidationError
from suanli.core.money import MONEY_MAX, to_decimal

T = TypeVar("T")
MAX_LIMIT = 500
MAX_OFFSET = 10**9  # far beyond any table here, and well inside a 64-bit INTEGER


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def check_paging(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(
            "request.invalid_limit", f"limit must be 1..{MAX_LIMIT}", {"limit": f"1..{MAX_LIMIT}"}
        )
    if not 0 <= offset <= MAX_OFFSET:
        raise ValidationError(
            "request.invalid_offset",
            f"offset must be 0..{MAX_OFFSET}",
            {"offset": f"0..{MAX_OFFSET}"},
        )


def require_text(value: str | None, field: str, max_len: int = 200) -> str:
    """Strip ``value``; raise ``<field>`` validation errors when empty or too long."""
    text = (value or "").strip()
    if not text:
        raise ValidationError("input.required", f"{field} is required", {field: "non-empty text"})
    if len(text) > max_len:
        raise ValidationError(
            "input.too_long", f"{field} is longer than {max_len}", {field: f"<= {max_len} chars"}
        )
    return text


def optional_text(value: str | None, field: str, max_len: int = 200) -> str | None:
    if value is None or not value.strip():
        return None
    return require_text(value, field, max_len)


def non_negative_money(value: object, field: str) -> Decimal:
    amount = to_decimal(value, field)
    if amount < 0:
        raise ValidationError("money.negative", f"{field} must be >= 0", {field: ">= 0"})
    if amount > MONEY_MAX:
        raise ValidationError(
            "money.out_of_range", f"{field} must be <= {MONEY_MAX}", {field: f"<= {MONEY_MAX}"}
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError(
            "money.too_precise", f"{field} has more than 2 decimals", {field: "2 decimals at most"}
        )
    return amount.quantize(Decimal("0.01"))


def currency_code(value: str | None, default: str) -> str:
    code = (value or default).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise ValidationError(
            "money.invalid_currency", f"not a currency code: {code!r}", {"currency": "ISO 4217"}
        )
    return code


def ratio(
    value: object, field_name: str, low: Decimal = Decimal(0), high: Decimal = Decimal(1)
) -> Decimal:
    number = to_decimal(value, field_name)
    if not low <= number <= high:
        raise ValidationError(
            "input.out_of_range",
            f"{field_name} must be {low}..{high}",
            {field_name: f"{low}..{high}"},
        )
    return number


def positive_int(value: int, field_name: str, high: int) -> int:
    if not 1 <= value <= high:
        raise ValidationError(
            "input.out_of_range", f"{field_name} must be 1..{high}", {field_name: f"1..{high}"}
        )
    return value


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def effective_at(value: str | date | datetime | None, now: datetime, field: str = "at") -> datetime:
    """When a business event took effect: ``value`` (an ISO date means 00:00 UTC that day; an
    ISO datetime needs its offset) or, by default, ``now``. Never after ``now`` — a fact is not
    recorded before it happens — nor before 2000."""
    if value is None:
        return now
    when: datetime
    try:
        if isinstance(value, datetime):
            when = value
        elif isinstance(value, date):
            when = datetime(value.year, value.month, value.day, tzinfo=UTC)
        elif len(value) == 10:
            day = date.fromisoformat(value)
            when = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            when = datetime.fromisoformat(value)
        if when.tzinfo is None:
            raise ValueError
        when = when.astimezone(UTC)
    except (ValueError, TypeError, OverflowError):
        raise ValidationError(
            "input.invalid_datetime",
            f"{field} must be YYYY-MM-DD or an ISO datetime with its UTC offset, got {value!r}",
            {field: "YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS+00:00"},
        ) from None
    if not EARLIEST <= when <= now:
        raise ValidationError(
            "input.date_out_of_range",
            f"{field} {when.isoformat()} is not between {EARLIEST.date()} and now ({now.isoformat()})",
            {field: f">= {EARLIEST.date()} and <= now"},
        )
    return when
