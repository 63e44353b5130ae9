"""Reporting periods: a quarter ``2024Q1``, a month ``2024-03`` or a year ``2024``.

A period is ``[start, end)`` in calendar days and is made of whole billing months
(:class:`suanli.core.billing.Period`), which the revenue figures are summed over. A period is
*closed* once its end is on or before the report date: only then is regeneration guaranteed to
give the same figures (a later correction to a closed period is a restatement).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from suanli.core.billing import Period, month_of
from suanli.core.errors import ValidationError

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    key: str
    start: date
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def months(self) -> list[Period]:
        out, month = [], month_of(self.start)
        while month.start < self.end:
            out.append(month)
            month = month.next()
        return out

    def closed(self, today: date) -> bool:
        return self.end <= today

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def _month_end(year: int, month: int) -> date:
    return month_of(date(year, month, 1)).end


def parse_report_period(text: str, field: str = "period") -> ReportPeriod:
    """``2024Q1`` | ``2024-03`` | ``2024`` → :class:`ReportPeriod` (years 2000..2100)."""
    key = (text or "").strip().upper()
    try:
        if m := _QUARTER.match(key):
            year, q = int(m[1]), int(m[2])
            start, end = date(year, 3 * q - 2, 1), _month_end(year, 3 * q)
        elif m := _MONTH.match(key):
            year = int(m[1])
            start, end = date(year, int(m[2]), 1), _month_end(year, int(m[2]))
        elif m := _YEAR.match(key):
            year = int(m[1])
            start, end = date(year, 1, 1), date(year + 1, 1, 1)
        else:
            raise ValueError(key)
        if not 2000 <= year <= 2100:
            raise ValueError(key)
    except ValueError:
        raise ValidationError(
            "report.invalid_period",
            f"{field} must be YYYYQn, YYYY-MM or YYYY (2000..2100), got {text!r}",
            {field: "2024Q1 | 2024-03 | 2024"},
        ) from None
    return ReportPeriod(key, start, end)
