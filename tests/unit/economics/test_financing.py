"""Financing: grace period, upfront fee, project vs equity NPV, DSCR / leverage covenants with a
per-month breach flag; the arithmetic is worked in each docstring."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from suanli.economics.evaluate import evaluate, flows_of
from suanli.economics.scenario import Scenario
from unit.economics.single_server import one_server


def _one_server(overrides: dict[str, Any]) -> Scenario:
    """1.0 M server, 30k rent, no tax, VAT-exclusive prices, 100 % loan at 12 % nominal
    over 48 months."""
    base = {
        "taxes.income_tax_rate": 0.0,
        "taxes.prices_include_vat": False,
        "form.rent_per_server_month": 30_000,
        "financing.loan_share": 1.0,
        "financing.rate_annual": 0.12,
        "financing.rate_convention": "nominal",
        "financing.term_months": 48,
    }
    return one_server({**base, **overrides})


def test_grace_period_is_interest_only_then_annuity() -> None:
    """1.0 M loan at 1 % a month (12 % nominal), 12 months' grace then 48-month annuity.
    Months 1-12: interest 10,000, principal 0. Month 13: payment = 1.0 M x 0.01 / (1 -
    1.01^-48) = 26,333.84, of which interest 10,000 and principal 16,333.84."""
    f = flows_of(_one_server({"financing.grace_months": 12}))
    np.testing.assert_allclose(f.interest[0, 1:13], 10_000.0)
    np.testing.assert_allclose(f.financing[0, 1:13], 0.0)
    assert f.interest[0, 13] == pytest.approx(10_000.0)
    assert -f.financing[0, 13] == pytest.approx(16_333.84, abs=0.01)


def test_upfront_fee_is_an_equity_cost_not_a_project_cost() -> None:
    """A 1 % fee on the 1.0 M draw = 10,000 in month 0 in the interest line: equity NPV falls
    by exactly 10,000 (month 0 is undiscounted), project NPV does not move."""
    without = evaluate(_one_server({}), with_breakeven=False)
    fee = evaluate(_one_server({"financing.upfront_fee_pct": 0.01}), with_breakeven=False)
    assert fee.npv_project == pytest.approx(without.npv_project)
    assert without.npv_equity - fee.npv_equity == pytest.approx(10_000.0)


def test_project_and_equity_npv_do_not_depend_on_the_basis_chosen() -> None:
    """The scenario's ``cash_flow_basis`` picks the headline NPV; the two NPVs reported
    beside it are the same whichever basis the table was computed on."""
    p = evaluate(_one_server({}), with_breakeven=False)
    e = evaluate(_one_server({"cash_flow_basis": "equity"}), with_breakeven=False)
    assert p.npv == pytest.approx(p.npv_project) and e.npv == pytest.approx(e.npv_equity)
    assert p.npv_equity == pytest.approx(e.npv_equity)
    assert p.npv_project == pytest.approx(e.npv_project)


def test_dscr_breach_flag() -> None:
    """Rent 30,000 a month, no cost, no tax: CFADS 30,000 a month. Debt service from month 1
    (no grace, 48-month annuity at 1 %): 26,333.84 a month, so DSCR = 30,000 / 26,333.84 =
    1.139 every month. A 1.2 floor breaches in every serviced month (48); a 1.1 floor never.
    Leverage in month 1: balance 1.0 M - 16,333.84 = 983,666 over annualised EBITDA 360,000
    = 2.73."""
    strict = evaluate(_one_server({"financing.dscr_min": 1.2}), with_breakeven=False)
    assert strict.min_dscr == pytest.approx(30_000 / 26_333.84, rel=1e-6)
    assert strict.covenant_breach_months == 48 and strict.first_covenant_breach_month == 1
    loose = evaluate(_one_server({"financing.dscr_min": 1.1}), with_breakeven=False)
    assert loose.covenant_breach_months == 0 and loose.first_covenant_breach_month is None
    assert loose.max_leverage == pytest.approx((1e6 - (26_333.84 - 10_000)) / 360_000, rel=1e-5)
    lev = evaluate(_one_server({"financing.leverage_max": 2.0}), with_breakeven=False)
    assert lev.first_covenant_breach_month == 1 and lev.covenant_breach_months > 0


def test_sale_leaseback_draws_late() -> None:
    """Server paid in month 0 without debt; sold and leased back in month 12 for 100 % of its
    1.0 M cost: financing cash +1.0 M in month 12 (nothing before), lease interest 10,000 (1 %
    a month) from month 13, and the server stays on the books (depreciation unchanged)."""
    plain = flows_of(_one_server({"financing.loan_share": 0.0}))
    slb = flows_of(_one_server({"financing.sale_leaseback_month": 12}))
    np.testing.assert_allclose(slb.financing[0, :12], 0.0)
    assert slb.financing[0, 12] == pytest.approx(1_000_000.0)
    np.testing.assert_allclose(slb.interest[0, :13], 0.0)
    assert slb.interest[0, 13] == pytest.approx(10_000.0)
    np.testing.assert_allclose(slb.depreciation, plain.depreciation)


def test_project_npv_keeps_the_interest_tax_shield() -> None:
    """The convention, pinned: income tax is computed once, after deducting interest, and
    project FCF adds the interest back but not the tax it saved, so ``npv_project`` is a
    *capital cash flow* NPV and rises with debt by the discounted tax shield. Rent 30,000 a
    month, depreciation 16,666.67, interest at most 10,000: taxable income is positive every
    month, so with 25 % tax (monthly, unlimited carry-forward) the shield is exactly
    0.25 x interest each month and npv_project(loan) - npv_project(no loan) = 0.25 x PV(interest)
    at the 10 % discount rate (monthly 1.1^(1/12) - 1). With no income tax it is 0."""
    taxed = {"taxes.income_tax_rate": 0.25}
    loan = evaluate(_one_server(taxed), with_breakeven=False)
    cash = evaluate(_one_server({**taxed, "financing.loan_share": 0.0}), with_breakeven=False)
    interest = flows_of(_one_server(taxed)).interest[0]
    r = 1.1 ** (1 / 12) - 1
    shield = 0.25 * float((interest / (1 + r) ** np.arange(interest.size)).sum())
    assert shield > 50_000
    assert loan.npv_project - cash.npv_project == pytest.approx(shield, rel=1e-9)
    assert loan.npv_unlevered == pytest.approx(cash.npv_project, rel=1e-12)
    assert cash.npv_unlevered == pytest.approx(cash.npv_project, rel=1e-12)
    untaxed = evaluate(_one_server({}), with_breakeven=False)
    untaxed_cash = evaluate(_one_server({"financing.loan_share": 0.0}), with_breakeven=False)
    assert untaxed.npv_project == pytest.approx(untaxed_cash.npv_project, rel=1e-12)
