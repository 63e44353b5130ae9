"""China tax rules of the engine, each checked against arithmetic worked by hand in the
docstring: input VAT credit with carry-forward, surcharges, annual income tax with a 5-year loss
expiry, book vs tax depreciation (SYD, DDB, one-time deduction) with deferred tax, the loan-rate
convention, and the Tianfeng accelerated-depreciation row."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings

from suanli.core.errors import ValidationError
from suanli.economics.cashflow import income_tax, project, project_cash, tax_lines, vat_paid
from suanli.economics.depreciation import kernel
from suanli.economics.evaluate import evaluate, flows_of
from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import _operating_chunk
from suanli.economics.plan import build_plan, loan_monthly_rate
from suanli.economics.scenario import Scenario
from unit.economics.single_server import one_server as _one_server
from unit.economics.test_properties import scenarios

NEW_RULES = {
    "taxes.credit_input_vat": True,
    "taxes.surcharge_rate": 0.12,
    "taxes.loss_carryforward_years": 5,
}


def _row(*values: float) -> np.ndarray:
    return np.array([values], dtype=np.float64)


def test_vat_credit_carries_forward_and_is_never_refunded() -> None:
    """Output VAT 10, 10, 15, 10, 10, 10; input VAT 30 in month 0 and 20 in month 3.
    Month 0: credit 30 - 10 = 20 left, pay 0. Month 1: 20 - 10 = 10 left, pay 0. Month 2: 15
    due, 10 credited, pay 5. Month 3: +20 credit, 10 due -> 10 left, pay 0. Month 4: 10 due,
    10 credited, pay 0. Month 5: pay 10. Total paid 15 = 65 output - 50 input."""
    paid = vat_paid(_row(10, 10, 15, 10, 10, 10), _row(30, 0, 0, 20, 0, 0))
    np.testing.assert_allclose(paid, _row(0, 0, 5, 0, 0, 10))
    # A credit larger than all output VAT is lost, not refunded: nothing is ever negative.
    lost = vat_paid(_row(1, 1, 1), _row(10, 0, 0))
    np.testing.assert_allclose(lost, _row(0, 0, 0))


def test_one_year_of_vat_credit_on_one_server() -> None:
    """1 server at 1.13 M CNY VAT-inclusive, credit on at 13 %: input VAT = 1.13 M x 0.13 /
    1.13 = 130,000. Rent 100k/month VAT-exclusive, fully let from month 1: output VAT 13,000 a
    month, so months 1-10 pay nothing (10 x 13k = 130k credited) and month 11 pays 13,000.
    Surcharges 12 % of that = 1,560. Book depreciation on the VAT-exclusive 1.0 M over 5 years,
    no salvage: 1,000,000 / 60 = 16,666.67 a month."""
    sc = _one_server(
        {
            "taxes.credit_input_vat": True,
            "taxes.surcharge_rate": 0.12,
            "taxes.prices_include_vat": False,
        }
    )
    f = flows_of(sc)
    np.testing.assert_allclose(f.vat_paid[0, :11], 0.0)
    assert f.vat_paid[0, 11] == pytest.approx(13_000.0)
    assert f.surcharges[0, 11] == pytest.approx(1_560.0)
    assert f.depreciation[0, 1] == pytest.approx(1_000_000 / 60)


def test_it_services_output_vat_at_6_percent_takes_longer_to_use_the_credit() -> None:
    """Same server (input VAT 130,000), sold as an IT service at 6 % instead of leased at 13 %:
    output VAT 100,000 x 6 % = 6,000 a month. Months 1-21 use 21 x 6,000 = 126,000 of the
    credit and pay nothing; month 22 has 4,000 left against 6,000 due and pays 2,000; month 23
    pays 6,000, surcharges 12 % = 720. The bundled computing-center file uses 6 %."""
    sc = _one_server(
        {
            "taxes.credit_input_vat": True,
            "taxes.surcharge_rate": 0.12,
            "taxes.prices_include_vat": False,
            "taxes.vat_rate": 0.06,
        }
    )
    f = flows_of(sc)
    np.testing.assert_allclose(f.vat_paid[0, :22], 0.0)
    assert f.vat_paid[0, 22] == pytest.approx(2_000.0)
    assert f.vat_paid[0, 23] == pytest.approx(6_000.0)
    assert f.surcharges[0, 23] == pytest.approx(720.0)
    assert load_bundled("compare-computing-center").taxes.vat_rate == 0.06
    assert load_bundled("h800-bare-metal-2p1m").taxes.vat_rate == 0.13


def test_annual_loss_carry_forward_expires_after_five_years() -> None:
    """Annual settlement, 25 % tax, losses carried 5 years. Year 1 loses 120 (months 0-12),
    years 2-6 earn 0, year 7 earns 120: the year-1 loss could offset years 2-6 only, so it has
    expired and year 7 pays 120 x 25 % = 30 in month 84. With the 120 earned in year 6
    instead, the loss offsets it: no tax at all."""
    n = 12 * 7 + 1
    ebt = np.zeros((1, n))
    ebt[0, 1] = -120.0
    ebt[0, 84] = 120.0
    tax, forfeited = income_tax(ebt, 0.25, 5)
    assert tax[0, 84] == pytest.approx(30.0)
    assert tax.sum() == pytest.approx(30.0)
    assert forfeited[0, 72] == pytest.approx(120.0)  # expires at the end of year 6
    ebt6 = np.zeros((1, n))
    ebt6[0, 1] = -120.0
    ebt6[0, 72] = 120.0
    tax6, forfeited6 = income_tax(ebt6, 0.25, 5)
    assert tax6.sum() == 0.0 and forfeited6.sum() == 0.0


def test_losses_are_used_oldest_first_and_not_refunded_at_horizon() -> None:
    """Year 1 -100, year 2 -50, year 3 +120, year 4 +100, 25 % tax, 5-year carry. Year 3 uses
    100 (year 1) then 20 of year 2: taxable 0. Year 4 uses the last 30: taxable 70, tax 17.5.
    A single losing year pays 0 and the loss is forfeited at the horizon (no refund)."""
    ebt = np.zeros((1, 49))
    ebt[0, [12, 24, 36, 48]] = [-100.0, -50.0, 120.0, 100.0]
    tax, _ = income_tax(ebt, 0.25, 5)
    assert tax[0, 36] == 0.0
    assert tax[0, 48] == pytest.approx(17.5)
    lone = np.zeros((1, 13))
    lone[0, 5] = -40.0
    t, forfeited = income_tax(lone, 0.25, 5)
    assert t.sum() == 0.0 and forfeited[0, -1] == pytest.approx(40.0)
    # Book: the deferred tax asset on the loss is written off at the horizon, so the book
    # expense nets to zero and the net loss stays -40 (not -30).
    _, expense = tax_lines(lone, lone, 0.25, 5)
    assert expense.sum() == pytest.approx(0.0)


def test_depreciation_kernels() -> None:
    """4 years, no salvage. SYD: 4/10, 3/10, 2/10, 1/10 of cost per year, /12 per month.
    DDB at 2/4 = 50 %: year 1 0.5, year 2 0.25; then straight line on the remaining 0.25 over
    2 years (0.125 each) beats 50 % x 0.25 = 0.125 (equal), so 0.125, 0.125. One-time: all of it
    in one month. Straight line with 5 % salvage over 5 years: 0.95 / 60 a month."""
    syd = kernel("syd", 48, 0.0).reshape(4, 12).sum(axis=1)
    np.testing.assert_allclose(syd, [0.4, 0.3, 0.2, 0.1])
    ddb = kernel("ddb", 48, 0.0).reshape(4, 12).sum(axis=1)
    np.testing.assert_allclose(ddb, [0.5, 0.25, 0.125, 0.125])
    np.testing.assert_allclose(kernel("one_time", 60, 0.05), [1.0])
    np.testing.assert_allclose(kernel("straight_line", 60, 0.05), np.full(60, 0.95 / 60))


def test_one_time_deduction_and_deferred_tax() -> None:
    """1 server at 1.0 M CNY (VAT not credited), delivered 2024-01 (inside 2018-2027), book
    straight line 5 years no salvage (16,666.67 a month), tax: all 1.0 M deducted in month 1.
    Rent 100k/month from month 1, no other cost, annual settlement, 25 %. Year 1 (months 0-12)
    taxable = 1.2 M - 1.0 M = 200,000 -> cash tax 50,000 in month 12; book EBT = 1.2 M -
    200,000 = 1.0 M -> book tax 250,000. Deferred tax liability at the end of year 1 =
    25 % x (1.0 M - 200,000) = 200,000 = book tax - cash tax. Above the 5 M per-unit limit
    (limit set to 0.5 M here) or after the eligibility window the deduction does not apply."""
    over = {
        "depreciation.tax_method": "one_time",
        "taxes.loss_carryforward_years": 5,
        "taxes.prices_include_vat": False,
        "start_date": "2024-01-01",
    }
    f = flows_of(_one_server(over))
    assert f.tax_paid[0, 12] == pytest.approx(50_000.0)
    assert f.tax[0, :13].sum() == pytest.approx(250_000.0)
    assert (f.tax - f.tax_paid)[0, :13].sum() == pytest.approx(200_000.0)
    # Ineligible: unit cost above the limit, or delivered after the window -> same as book.
    for extra in (
        {"depreciation.one_time_limit_per_unit": 500_000.0},
        {"start_date": "2028-01-01"},
    ):
        g = flows_of(_one_server({**over, **extra}))
        assert g.tax_paid[0, 12] == pytest.approx(250_000.0)


def test_one_time_needs_a_start_date() -> None:
    with pytest.raises(ValidationError) as err:
        _one_server({"depreciation.tax_method": "one_time"})
    assert "start_date is required" in str(err.value.fields)


def test_loan_rate_convention() -> None:
    """6 % a year: nominal = 0.06 / 12 = 0.5 % a month; effective = 1.06^(1/12) - 1 =
    0.48676 % a month. First month's interest on a 1.0 M loan drawn at month 0: 5,000 nominal,
    4,867.55 effective."""
    assert loan_monthly_rate(0.06, "nominal") == pytest.approx(0.005)
    assert loan_monthly_rate(0.06, "effective") == pytest.approx(1.06 ** (1 / 12) - 1)
    base = {"financing.loan_share": 1.0, "financing.rate_annual": 0.06}
    nominal = flows_of(_one_server({**base, "financing.rate_convention": "nominal"}))
    effective = flows_of(_one_server(base))
    assert nominal.interest[0, 1] == pytest.approx(5_000.0)
    assert effective.interest[0, 1] == pytest.approx(4_867.55, abs=0.01)


def test_tianfeng_accelerated_depreciation_row() -> None:
    """Tianfeng Securities 2025-04-11 (reference section 3 [S]): accelerated depreciation gives
    a year-1 loss of about 51k CNY, then net margins 14, 35, 55, 75 %. Inputs (scenario file):
    revenue 840k a year, cost 2.26 M, SYD over 4 years, no other cost, tax 25 % with deferred
    tax. Year 1: 840k - 0.4 x 2.26 M = -64k, x 0.75 = -48k. Year 2: (840k - 678k) x 0.75 /
    840k = 14.5 %; year 3: (840k - 452k) x 0.75 / 840k = 34.6 %; year 4: 54.8 %; year 5: no
    depreciation, 75 %. Tolerance: margins to the report's whole percent (+-0.5 point), the
    year-1 loss within 10 % of 51k."""
    result = evaluate(load_bundled("tianfeng-h100-70k-accelerated"))
    margins = [y.net_margin for y in result.yearly]
    np.testing.assert_allclose(margins[1:], [0.14, 0.35, 0.55, 0.75], atol=0.005)
    assert result.yearly[0].net_income < 0
    assert result.yearly[0].net_income == pytest.approx(-51_000, rel=0.10)


def test_capex_vat_credit_on_the_base_case() -> None:
    """Issue 17: the capex VAT credit alone is worth about +17 M CNY NPV on the 100-server base
    case. Hand estimate: capex 100 x 2.1 M x 1.02 = 214.2 M, input VAT 214.2 x 0.13 / 1.13 =
    24.64 M, recovered from ~0.92 M/month of output VAT within ~2.5 years (worth ~22 M
    discounted), less the depreciation tax shield lost on 24.64 M x 0.95 x 25 % = 5.9 M
    (~4.6 M discounted): ~+17 M. Tolerance: 16-18.5 M."""
    pre_issue = {
        "taxes.credit_input_vat": False,
        "taxes.surcharge_rate": 0.0,
        "taxes.loss_carryforward_years": None,
    }
    base = with_overrides(load_bundled("h800-bare-metal-2p1m"), pre_issue)
    credited = with_overrides(base, {"taxes.credit_input_vat": True})
    gain = evaluate(credited).npv - evaluate(base).npv
    assert 16e6 <= gain <= 18.5e6


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_crediting_input_vat_never_lowers_npv(overrides: dict[str, Any]) -> None:
    """Property: with everything else equal, crediting the input VAT in capex never lowers NPV
    (the credit is cash back no later than the tax shield it replaces, and never negative)."""
    sc = with_overrides(load_bundled("h800-bare-metal-2p1m"), overrides)
    off = with_overrides(sc, {"taxes.credit_input_vat": False})
    on = with_overrides(sc, {"taxes.credit_input_vat": True})
    assert evaluate(on).npv >= evaluate(off).npv - 1e-6 * abs(evaluate(off).npv) - 1.0


def test_fast_path_matches_the_table_under_the_new_rules(h800: Scenario) -> None:
    """The Monte Carlo hot path (project_cash) equals the full table with VAT credit,
    surcharges, annual losses and a different tax depreciation, on random draws."""
    sc = with_overrides(
        h800,
        {
            **NEW_RULES,
            "depreciation.tax_method": "ddb",
            "cash_flow_basis": "equity",
            "financing.loan_share": 0.5,
            "financing.rate_annual": 0.05,
        },
    )
    plan = build_plan(sc)
    assert sc.montecarlo is not None
    draws = _operating_chunk(plan, sc.montecarlo, np.random.default_rng(7), 64)
    full = project(plan, draws)
    fcf, ni = project_cash(plan, draws)
    np.testing.assert_allclose(fcf, full.fcf, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(ni, full.net_income, rtol=1e-9, atol=1e-3)


def test_cash_and_book_taxes_reconcile(h800: Scenario) -> None:
    """Over the horizon, book tax - cash tax = rate x (book EBT - taxable income) = the deferred
    tax liability left at the horizon (losses forfeited are in both)."""
    sc = with_overrides(
        h800,
        {
            **NEW_RULES,
            "depreciation.years": 6,
            "depreciation.tax_years": 5,
            "depreciation.tax_method": "syd",
        },
    )
    plan = build_plan(sc)
    f = flows_of(sc)
    dtl = 0.25 * (plan.prop.tax_depreciation - plan.prop.depreciation).sum()
    assert dtl > 1e6  # book (6 years) is behind tax (5 years, SYD) at the 5-year horizon
    assert (f.tax - f.tax_paid).sum() == pytest.approx(dtl, rel=1e-9)


def test_servers_retire_at_useful_life_and_stop_earning() -> None:
    """Horizon 84 months, 5-year life, no replacement: the server earns in months 1-60 and
    nothing after; sold in month 60 for 10 % of 1.0 M = 100,000 against a book value of 0 (5
    years straight line, no salvage): a taxable gain of 100,000."""
    f = flows_of(_one_server({"horizon_months": 84, "depreciation.resale_pct_at_end": 0.1}))
    assert f.revenue[0, 60] > 0 and np.all(f.revenue[0, 61:] == 0.0)
    assert f.disposal[0, 60] == pytest.approx(100_000.0)
    assert np.all(f.depreciation[0, 61:] == 0.0)


def test_disposal_at_a_chosen_month_writes_off_book_value_and_taxes_the_gain() -> None:
    """1.0 M server, 5-year straight line, no salvage: 16,666.67 a month. Retired and sold in
    month 24 for 70 % = 700,000; book value = 1.0 M - 24 x 16,666.67 = 600,000; gain 100,000
    in the P&L. Tax (annual, 25 %): year 2 = 12 x 100k rent - 12 x 16,666.67 + 100,000 gain
    = 1,100,000 -> 275,000 paid in month 24. Project FCF in month 24 = rent 100,000 + 700,000
    proceeds - 275,000 tax = 525,000. Selling for 500,000 instead is a 100,000 loss."""
    over = {
        "end_of_life.retire_month": 24,
        "depreciation.resale_pct_at_end": 0.7,
        "taxes.loss_carryforward_years": 5,
        "taxes.prices_include_vat": False,
    }
    f = flows_of(_one_server(over))
    assert f.disposal[0, 24] == pytest.approx(100_000.0)
    assert f.tax_paid[0, 24] == pytest.approx(275_000.0)
    assert f.fcf[0, 24] == pytest.approx(525_000.0)
    assert np.all(f.revenue[0, 25:] == 0.0)
    loss = flows_of(_one_server({**over, "depreciation.resale_pct_at_end": 0.5}))
    assert loss.disposal[0, 24] == pytest.approx(-100_000.0)


def test_replacement_capex_keeps_a_long_horizon_earning() -> None:
    """Horizon 120, life 5 years, replacement at 60 % of the 1.0 M price: 600,000 of capex in
    month 60, and the server earns in all 120 months."""
    f = flows_of(
        _one_server(
            {
                "horizon_months": 120,
                "end_of_life.replace": True,
                "end_of_life.replacement_price_pct": 0.6,
            }
        )
    )
    assert f.capex[0, 60] == pytest.approx(600_000.0)
    assert np.all(f.revenue[0, 1:] > 0)


def test_retire_month_after_horizon_is_rejected() -> None:
    with pytest.raises(ValidationError) as err:
        _one_server({"end_of_life.retire_month": 61})
    assert "retire_month" in str(err.value.fields)
