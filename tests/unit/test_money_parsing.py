"""core/money.py: parsing amounts and the one rounding rule (pinned after mutation testing,
issue 11 §5: the error code and the expected-value details were not asserted)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from suanli.core.errors import ValidationError
from suanli.core.money import round_money, to_decimal


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12.50", D("12.50")), (" -3 ", D("-3")), ("1e3", D("1E+3")), (7, D(7)), (D("0.1"), D("0.1"))],
)
def test_plain_numbers_parse_exactly(value: object, expected: D) -> None:
    assert to_decimal(value) == expected


def test_a_float_is_read_through_its_repr_not_its_binary_value() -> None:
    """``Decimal(0.1)`` is 0.1000000000000000055511151231257827…; the repr gives 0.1."""
    assert to_decimal(0.1) == D("0.1")
    assert str(to_decimal(2.675)) == "2.675"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("١٢", "a decimal"),  # Arabic-Indic digits: Decimal would take them
        ("1_0", "a decimal"),  # Decimal would read 10
        (True, "a decimal"),
        ("twelve", "a decimal"),
        ([1], "a decimal"),  # not text or a number at all
        ("nan", "a finite decimal"),
        ("-Infinity", "a finite decimal"),
        ("sNaN", "a finite decimal"),
    ],
)
def test_refusals_name_the_field_and_what_was_expected(value: object, expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        to_decimal(value, "unit_price")
    assert info.value.code == "money.invalid"
    assert info.value.fields == {"unit_price": expected}
    assert info.value.message.startswith("unit_price must be")


@pytest.mark.parametrize(
    ("amount", "rounded"),
    [
        ("2.345", "2.35"),
        ("-2.345", "-2.35"),
        ("2.344999", "2.34"),
        ("0.005", "0.01"),
        ("7", "7.00"),
    ],
)
def test_round_money_is_half_up_away_from_zero_to_the_cent(amount: str, rounded: str) -> None:
    assert str(round_money(D(amount))) == rounded


def test_round_money_to_another_minor_unit() -> None:
    assert str(round_money(D("1234.5"), D("1"))) == "1235"
