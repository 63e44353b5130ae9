"""Billing arithmetic (pure): billing periods, proration by days of service, SLA credits,
usage pricing, VAT per line, and the rounding rules of the ledger.

Rounding rules (see docs/billing.md):

1. Quantities and rates are exact Decimals; only money amounts are rounded.
2. Each invoice line's ``net`` is computed from the exact quantity and rate and rounded once to
   0.01 (ROUND_HALF_UP). Prorated rent: ``monthly_rent × server_days / days_in_month``.
   Usage: ``gpu_seconds × gpu_hour_price / 3600``.
3. ``tax = round(net × vat_rate)`` per line; ``gross = net + tax``. Invoice totals are the sums of
   the lines' rounded figures, so an invoice always adds up exactly.
4. Dates are UTC calendar days. A day counts as served when the server was in service for the
   customer at 00:00 UTC of that day (delivered mid-day: service counts from the next day).

Vocabulary: a *period* is a calendar month ``[start, end)``; *server-days* is the sum over the
servers of a contract of their served days in the period.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from suanli.core.errors import ValidationError
from suanli.core.kinds import UsageClass
from suanli.core.money import round_money

SECONDS_PER_HOUR = Decimal(3600)
SECONDS_PER_DAY = 86400
PRIORITY_CLASSES = tuple(UsageClass)


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month ``[start, end)`` named ``YYYY-MM``."""

    start: date
    end: date

    @property
    def key(self) -> str:
        return f"{self.start.year:04d}-{self.start.month:02d}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def start_at(self) -> datetime:
        return midnight(self.start)

    @property
    def end_at(self) -> datetime:
        return midnight(self.end)

    @property
    def seconds(self) -> int:
        return self.days * SECONDS_PER_DAY

    def next(self) -> Period:
        return month_of(self.end)

    def previous(self) -> Period:
        return month_of(self.start - timedelta(days=1))


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def month_of(day: date) -> Period:
    start = day.replace(day=1)
    last = calendar.monthrange(start.year, start.month)[1]
    return Period(start, start + timedelta(days=last))


def parse_period(key: str, field: str = "period") -> Period:
    """``YYYY-MM`` → :class:`Period`; a coded error naming ``field`` otherwise."""
    try:
        year, month = key.split("-")
        if len(year) != 4 or len(month) != 2 or not 2000 <= int(year) <= 2100:
            raise ValueError
        return month_of(date(int(year), int(month), 1))
    except (ValueError, AttributeError):
        raise ValidationError(
            "billing.invalid_period",
            f"{field} must be YYYY-MM (2000..2100), got {key!r}",
            {field: "YYYY-MM"},
        ) from None


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def first_full_day(at: datetime) -> date:
    """The first UTC day that starts at or after ``at``."""
    at = at.astimezone(UTC)
    return at.date() if at.time() == time(0) else at.date() + timedelta(days=1)


def served_days(
    period: Period, starts_at: datetime, ends_at: datetime, delivered_at: datetime | None
) -> int:
    """Days of ``period`` on which a server allocated ``[starts_at, ends_at)`` was in service."""
    if delivered_at is None:
        return 0
    first = max(period.start, first_full_day(max(starts_at, delivered_at)))
    last = min(period.end, first_full_day(ends_at))
    return max(0, (last - first).days)


def overlap_seconds(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> int:
    """Seconds shared by ``[a0, a1)`` and ``[b0, b1)``."""
    seconds = (min(a1, b1) - max(a0, b0)).total_seconds()
    return max(0, int(seconds))


def downtime_seconds(
    period: Period, outages: Iterable[tuple[datetime, datetime | None]], now: datetime
) -> int:
    """Seconds of ``period`` covered by outages (an open outage lasts until ``now``)."""
    total = 0
    for down_from, down_until in outages:
        total += overlap_seconds(period.start_at, period.end_at, down_from, down_until or now)
    return min(total, period.seconds)


def credited_seconds(period: Period, down: int, sla_uptime: Decimal) -> int:
    """Downtime that earns a credit: all of it once it exceeds the SLA allowance, else none.

    The allowance is ``(1 - sla_uptime) × seconds in the period``.
    """
    allowance = (Decimal(1) - sla_uptime) * period.seconds
    return down if Decimal(down) > allowance else 0


@dataclass(frozen=True, slots=True)
class LineAmount:
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def line_amount(exact_net: Decimal, vat_rate: Decimal) -> LineAmount:
    """Round the exact net once; VAT per line on the rounded net."""
    net = round_money(exact_net)
    return LineAmount(net, round_money(net * vat_rate))


def prorated(monthly: Decimal, server_days: int, period: Period) -> Decimal:
    """Exact (unrounded) amount of ``monthly`` per server for ``server_days`` in ``period``."""
    return monthly * server_days / period.days


def sla_credit_amount(monthly_rent: Decimal, credited: int, period: Period) -> Decimal:
    """Exact (unrounded, negative) credit for ``credited`` server-seconds of downtime in
    ``period``: the rent of the time lost, ``-monthly_rent × credited / seconds in period``."""
    return -(monthly_rent * credited / period.seconds)


def usage_amount(gpu_seconds: Decimal, gpu_hour_price: Decimal) -> Decimal:
    return gpu_seconds * gpu_hour_price / SECONDS_PER_HOUR


def gpu_hours(gpu_seconds: Decimal) -> Decimal:
    return (gpu_seconds / SECONDS_PER_HOUR).quantize(Decimal("0.001"))


def true_up_hours(
    committed_gpus: int, contract_days: int, min_commitment: Decimal, used_gpu_seconds: Decimal
) -> Decimal:
    """GPU-hours of shortfall below the minimum commitment (``>= 0``, exact)."""
    minimum = Decimal(committed_gpus * 24 * contract_days) * min_commitment
    used = used_gpu_seconds / SECONDS_PER_HOUR
    return max(Decimal(0), minimum - used)


def contract_days(period: Period, start: date, end: date) -> int:
    """Days of ``period`` within a contract running ``[start, end)``."""
    return max(0, (min(period.end, end) - max(period.start, start)).days)


AGING_BUCKETS = ("0-30", "31-60", "61-90", "90+")


def aging_bucket(issue_date: date, as_of: date) -> str:
    """Receivables aging by days since the invoice date."""
    age = (as_of - issue_date).days
    if age <= 30:
        return "0-30"
    if age <= 60:
        return "31-60"
    if age <= 90:
        return "61-90"
    return "90+"
