"""Exact money. Amounts are :class:`decimal.Decimal`; rounding is explicit and documented.

Rounding rule of the ledger: amounts are quantised to the currency's minor unit (2 places for
CNY and USD) with ROUND_HALF_UP, the convention of Chinese VAT invoices (四舍五入). Rates and
unit prices may carry more places; only final amounts are quantised.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from suanli.core.errors import ValidationError
from suanli.core.rowfile import is_ascii_decimal

CENT = Decimal("0.01")
MONEY_MAX = Decimal("9999999999999999.99")
"""The largest amount stored exactly on every engine (``NUMERIC(18, 2)``; integer cents on
SQLite); amounts above it are refused as ``money.out_of_range``."""
DEFAULT_CURRENCY = "CNY"


def to_decimal(value: object, field: str = "amount") -> Decimal:
    """Parse ``value`` (str, int, Decimal; floats via their repr) as a finite Decimal.

    Text must be plain ASCII (``12.50``, ``-3``, ``1e3``): :class:`~decimal.Decimal` itself
    would take ``١٢`` or ``1_0``, which no ledger file should mean.
    """
    if isinstance(value, bool) or (isinstance(value, str) and not _plain_number(value)):
        raise ValidationError(
            "money.invalid",
            f"{field} must be a decimal number in ASCII digits, got {value!r}",
            {field: "a decimal"},
        )
    try:
        result = Decimal(str(value)) if isinstance(value, float) else Decimal(value)  # type: ignore[arg-type]
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError(
            "money.invalid",
            f"{field} must be a decimal number, got {value!r}",
            {field: "a decimal"},
        ) from None
    if not result.is_finite():
        raise ValidationError(
            "money.invalid", f"{field} must be finite", {field: "a finite decimal"}
        )
    return result


def _plain_number(text: str) -> bool:
    # the words Decimal knows are let through, to be refused below as not finite
    return is_ascii_decimal(text) or text.strip().lower().lstrip("+-") in _WORDS


_WORDS = frozenset({"inf", "infinity", "nan", "snan"})


def round_money(amount: Decimal, quantum: Decimal = CENT) -> Decimal:
    """Quantise ``amount`` to the minor unit, half up."""
    return amount.quantize(quantum, rounding=ROUND_HALF_UP)
