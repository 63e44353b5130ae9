"""CLI tables (suanli.cli.render.print_table): numbers right-aligned with one number of decimals
per column, units in headers, and money never cut at 80 columns."""

from __future__ import annotations

from decimal import Decimal

import pytest

from suanli.cli import render
from suanli.cli.render import Col, money, print_table


@pytest.fixture(autouse=True)
def eighty_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render.console, "width", 80)


def _rows(out: str, marker: str) -> list[str]:
    return [line for line in out.splitlines() if marker in line]


def test_decimals_are_consistent_within_a_column(capsys: pytest.CaptureFixture[str]) -> None:
    print_table([{"k": "a", "v": 80.05}, {"k": "b", "v": 89.965}, {"k": "c", "v": 3}], ["k", "v"])
    out = capsys.readouterr().out
    assert "80.050" in out and "89.965" in out and "3.000" in out


def test_no_scientific_notation_and_units_in_headers(capsys: pytest.CaptureFixture[str]) -> None:
    print_table([{"vc": "x", "jct": 2.07e4}], ["vc", Col("jct", "avg JCT", unit="s", decimals=0)])
    out = capsys.readouterr().out
    assert "avg JCT (s)" in out and "20,700" in out and "e+" not in out


def test_money_is_never_cut_at_80_columns(capsys: pytest.CaptureFixture[str]) -> None:
    row = {"number": "INV-2024-000001", "customer": "a customer with a long name",
           "kind": "invoice", "period": "2024-04", "issued": "2024-05-01", "due": "2024-05-31",
           "net": Decimal("123456789.00"), "tax": Decimal("16049382.57"),
           "gross": Decimal("139506171.57"), "outstanding": Decimal("139506171.57")}  # fmt: skip
    cols = [Col("number"), Col("customer"), Col("kind", drop=2), Col("period", drop=1),
            Col("issued", drop=4), Col("due", drop=3), Col("net", unit="CNY", money=True, drop=5),
            Col("tax", unit="CNY", money=True, drop=6),
            Col("gross", unit="CNY", money=True), Col("outstanding", unit="CNY", money=True)]  # fmt: skip
    print_table([row], cols)
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert out.count("139,506,171.57") == 2  # gross and outstanding, whole
    assert "INV-2024-000001" in out
    assert "hidden at 80 columns" in out and "tax" in out.split("hidden")[1]
    numbers = _rows(out, "139,506,171.57")[0]
    assert numbers.rstrip().endswith("139,506,171.57 │")  # right-aligned


def test_money_helper() -> None:
    assert money(Decimal("790531.675")) == "790,531.68"
    assert money("50000") == "50,000.00"


def test_text_values_and_dashes_keep_a_numeric_column_numeric(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table(
        [{"m": "a", "v": "—"}, {"m": "b", "v": "1.5"}, {"m": "c", "v": "12.25"}], ["m", "v"]
    )
    out = capsys.readouterr().out
    assert _rows(out, "│ b")[0].endswith(" 1.50 │") and "—" in out
