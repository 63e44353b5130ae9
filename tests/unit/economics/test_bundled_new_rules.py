"""The bundled scenarios that exercise issue 17's rules: Lotus Health's delivery risk (sourced
order, shortfall and replacement price) and the financed base case (finance lease, grace,
fee, covenants, equity basis)."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.economics.evaluate import evaluate
from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import run_montecarlo


def test_lotus_deposit_lost_is_30_percent_of_the_undelivered_order() -> None:
    """330 servers x 2.1 M = 693 M CNY ordered, 30 % deposit = 207.9 M at risk. Per path the
    deposit lost is 207.9 M x shortfall, shortfall ~ triangular(0, 0.1, 0.96), mean
    (0 + 0.1 + 0.96) / 3 = 0.3533, so 73.5 M lost on average (month 0, undiscounted, not tax
    deductible: NPV and net income both fall by it). 4,000 paths: the sample mean of the
    shortfall is within 0.02 of 0.3533 (its standard error is 0.0033)."""
    sc = load_bundled("lotus-h800-330-delivery-risk")
    with_deposit = run_montecarlo(sc, 4000, seed=3)
    without = run_montecarlo(with_overrides(sc, {"montecarlo.deposit_pct": 0.0}), 4000, seed=3)
    lost = without.net_income - with_deposit.net_income
    np.testing.assert_allclose(lost, without.npv - with_deposit.npv, rtol=1e-9)
    share = lost / 207.9e6
    assert share.min() >= 0.0 and share.max() <= 0.96 + 1e-9
    assert share.mean() == pytest.approx(0.3533, abs=0.02)


def test_lotus_replacements_at_2p83m_cost_more_than_at_2p1m() -> None:
    """The same paths with the 27 % replacement bought at 1.348 x (2.83 M, sourced) instead of
    1.0 x the 2.1 M price: every path is worse or equal (only the replacement capex and its
    loan, depreciation and VAT change), strictly worse where anything was replaced."""
    sc = load_bundled("lotus-h800-330-delivery-risk")
    dear = run_montecarlo(sc, 2000, seed=5)
    same = run_montecarlo(
        with_overrides(sc, {"montecarlo.replacement_price_factor": 1.0}), 2000, seed=5
    )
    assert np.all(dear.npv <= same.npv + 1.0)
    assert (dear.npv < same.npv - 1.0).mean() > 0.9


def test_financed_case_reports_equity_npv_and_breaches_its_dscr_covenant() -> None:
    """70 % at 6 % nominal (0.5 % a month) is cheaper than the 10 % discount rate, so the
    equity NPV exceeds the project NPV. Covenants (DSCR >= 1.2, debt / EBITDA <= 3.5): months
    1-4 breach while the ramp and the 60-day receivables leave trailing CFADS negative or small
    against the grace-period interest and one-month EBITDA annualised; the trailing DSCR then
    falls below 1.2 again once twelve full annuity payments are in the window, from month 24
    (70 % of 214.2 M = 149.9 M over 36 months at 0.5 %: 149.9 M x 0.005 / (1 - 1.005^-36) =
    4.56 M a month; the first year of income tax is also in it). A 1.1 floor keeps only the
    four start-up months (DSCR below zero there)."""
    sc = load_bundled("h800-bare-metal-2p1m-financed")
    r = evaluate(sc, with_breakeven=False)
    assert r.npv == pytest.approx(r.npv_equity)
    assert r.npv_equity > r.npv_project
    # the same servers unfunded are the base case: financing adds 3.6 M to the project NPV
    # (interest tax shield 4.3 M less 0.8 M for the lease's later VAT credit)
    assert r.npv_unlevered == pytest.approx(evaluate(load_bundled("h800-bare-metal-2p1m")).npv)
    assert r.npv_project - r.npv_unlevered == pytest.approx(3.56e6, rel=0.01)
    assert r.first_covenant_breach_month == 1
    assert r.min_dscr is not None and r.min_dscr < 1.2
    assert r.covenant_breach_months >= 15
    assert r.breached_months == [1, 2, 3, 4, *range(24, 43)]
    assert r.summary()["breached_months"] == r.breached_months
    relaxed = evaluate(
        with_overrides(sc, {"financing.dscr_min": 1.1, "financing.leverage_max": 20.0}),
        with_breakeven=False,
    )
    assert relaxed.covenant_breach_months == 4 and relaxed.first_covenant_breach_month == 1
