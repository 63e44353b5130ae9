"""The cash-flow table: each line's formula, conservation identities, and the deterministic /
Monte Carlo engines being the same code."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.core.catalog import default_catalog
from suanli.economics.cashflow import COLUMNS, after_tax, lag, project, project_cash
from suanli.economics.evaluate import evaluate, flows_of
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import _operating_chunk, run_montecarlo
from suanli.economics.plan import build_plan
from suanli.economics.scenario import Scenario


def test_power_line_is_kw_load_pue_hours_price(h800: Scenario) -> None:
    sc = with_overrides(h800, {"form.ramp_months": 0, "fleet.count": 1})
    flows = flows_of(sc)
    kw = default_catalog().sku("HGX-H800-8").nameplate_kw
    o = sc.opex
    occ = sc.form.occupancy  # type: ignore[union-attr]
    load = o.idle_load_factor * (1 - occ) + o.load_factor * occ
    expected = kw * load * o.pue * o.hours_per_month * o.power_price_kwh
    assert flows.power[0, 5] == pytest.approx(expected)
    assert flows.power[0, 0] == 0.0  # nothing runs before delivery


def test_revenue_is_rent_times_occupancy_net_of_vat(h800: Scenario) -> None:
    sc = with_overrides(h800, {"form.ramp_months": 0})
    flows = flows_of(sc)
    rent = sc.form.rent_per_server_month  # type: ignore[union-attr]
    assert flows.revenue[0, 7] == pytest.approx(100 * rent * 0.8 / 1.13)
    no_vat = flows_of(with_overrides(sc, {"taxes.prices_include_vat": False}))
    assert no_vat.revenue[0, 7] == pytest.approx(100 * rent * 0.8)


def test_depreciation_recovers_capex_less_salvage(h800: Scenario) -> None:
    flows = flows_of(h800)
    capex = flows.capex[0].sum()
    # The base case credits the 13 % input VAT: the asset's cost is capex / 1.13.
    assert h800.taxes.credit_input_vat
    assert flows.depreciation[0].sum() == pytest.approx(capex / 1.13 * 0.95)
    longer = flows_of(with_overrides(h800, {"horizon_months": 84}))
    assert longer.depreciation[0, 61:].sum() == 0.0  # fully depreciated after 60 months


def test_loan_is_repaid_and_interest_matches_annuity(h800: Scenario) -> None:
    sc = with_overrides(
        h800,
        {
            "financing.loan_share": 0.5,
            "financing.rate_annual": 0.06,
            "financing.term_months": 36,
            "cash_flow_basis": "equity",
        },
    )
    flows = flows_of(sc)
    draw = 0.5 * flows.capex[0, 0]
    assert flows.financing[0].sum() == pytest.approx(0.0, abs=1e-3)  # drawn = repaid
    r = 1.06 ** (1 / 12) - 1
    assert flows.interest[0, 1] == pytest.approx(draw * r)
    payment = draw * r / (1 - (1 + r) ** -36)
    principal_1 = -flows.financing[0, 1]
    assert principal_1 + flows.interest[0, 1] == pytest.approx(payment)
    assert flows.interest[0, 37:].sum() == 0.0


def test_balloon_repays_loan_outstanding_at_horizon(h800: Scenario) -> None:
    sc = with_overrides(h800, {"financing.loan_share": 0.5, "financing.term_months": 120})
    flows = flows_of(sc)
    assert flows.financing[0].sum() == pytest.approx(0.0, abs=1e-3)
    assert -flows.financing[0, -1] > 10 * -flows.financing[0, -2]


def test_tax_carries_losses_forward() -> None:
    ebt = np.array([[0.0, -100.0, 60.0, 60.0, -10.0, 30.0]])
    tax, income = after_tax(ebt, 0.25)
    # cumulative: -100, -40, 20 (taxed 20), 10, 40 (taxed up to 40)
    assert tax[0].tolist() == pytest.approx([0, 0, 0, 5.0, 0, 5.0])
    assert income.sum() == pytest.approx(ebt.sum() - 10.0)


def test_receivables_lag_conserves_cash() -> None:
    x = np.array([[0.0, 10.0, 10.0, 10.0, 0.0]])
    out = lag(x, 1.5)
    assert out[0].tolist() == pytest.approx([0, 0, 5.0, 10.0, 10.0])


def test_collections_are_delayed_but_complete(h800: Scenario) -> None:
    slow = flows_of(with_overrides(h800, {"form.receivable_days": 180}))
    fast = flows_of(with_overrides(h800, {"form.receivable_days": 0}))
    assert slow.fcf[0].sum() == pytest.approx(fast.fcf[0].sum())
    assert slow.cumulative[0, 12] < fast.cumulative[0, 12]


def test_ramp_and_price_decline_shape_revenue(h800: Scenario) -> None:
    sc = with_overrides(
        h800, {"form.ramp_months": 4, "form.contract_months": 1, "form.price_decline_annual": 0.2}
    )
    rev = flows_of(sc).revenue[0]
    assert rev[1] < rev[2] < rev[3] < rev[4]
    assert rev[16] / rev[4] == pytest.approx(0.8)  # 12 months later, one year of decline


def test_staggered_contracts_smooth_a_price_shock(h800: Scenario) -> None:
    shock = {"form.ramp_months": 0, "form.price_shocks": [{"month": 13, "pct": -0.5}]}
    spot = flows_of(with_overrides(h800, {**shock, "form.contract_months": 1})).revenue[0]
    staggered = flows_of(with_overrides(h800, {**shock, "form.contract_months": 12})).revenue[0]
    assert spot[13] == pytest.approx(spot[12] * 0.5)
    assert staggered[13] == pytest.approx(staggered[12] * (1 - 0.5 / 12))
    assert staggered[24] == pytest.approx(spot[24])


def test_delivery_shortfall_scales_fleet_lines(h800: Scenario) -> None:
    full = flows_of(with_overrides(h800, {"capex.network_install_pct": 0.0}))
    half = flows_of(
        with_overrides(h800, {"capex.network_install_pct": 0.0, "fleet.delivered_fraction": 0.5})
    )
    for col in ("revenue", "power", "cabinet", "capex", "depreciation"):
        assert half.column(col)[0].sum() == pytest.approx(0.5 * full.column(col)[0].sum())


def test_staggered_delivery_starts_servers_later(h800: Scenario) -> None:
    sc = with_overrides(
        h800, {"fleet.delivery": [{"month": 0, "count": 12}, {"month": 6, "count": 88}]}
    )
    flows = flows_of(sc)
    assert flows.capex[0, 0] == pytest.approx(12 * 2.1e6 * 1.02)
    assert flows.capex[0, 6] == pytest.approx(88 * 2.1e6 * 1.02)
    assert flows.cabinet[0, 6] == pytest.approx(12 * 6000)
    assert flows.cabinet[0, 7] == pytest.approx(100 * 6000)


def test_ebitda_and_net_income_identities(h800: Scenario) -> None:
    f = flows_of(with_overrides(h800, {"financing.loan_share": 0.4, "financing.rate_annual": 0.05}))
    costs = f.power + f.cabinet + f.om + f.fixed + f.bad_debt
    np.testing.assert_allclose(f.ebitda, f.revenue - costs)
    np.testing.assert_allclose(
        f.net_income,
        f.ebitda - f.depreciation - f.interest + f.disposal - f.surcharges - f.tax,
    )
    np.testing.assert_allclose(f.cumulative[0], np.cumsum(f.fcf[0]))


def test_table_has_every_column(h800: Scenario) -> None:
    rows = evaluate(h800, with_breakeven=False).table()
    assert len(rows) == h800.horizon_months + 1
    assert set(rows[0]) == {"month", *COLUMNS}


def test_montecarlo_with_fixed_inputs_reproduces_deterministic(h800: Scenario) -> None:
    fixed = with_overrides(
        h800,
        {
            "montecarlo": {
                "occupancy": {"dist": "fixed", "value": 0.8},
                "price_decline_annual": {"dist": "fixed", "value": 0.0},
                "delivery_shortfall": {"dist": "fixed", "value": 0.0},
                "bad_debt_pct": {"dist": "fixed", "value": 0.01},
                "price_shock_probability_annual": 0.0,
            }
        },
    )
    det = evaluate(fixed, with_breakeven=False)
    mc = run_montecarlo(fixed, paths=50, seed=3, chunk_size=16)
    np.testing.assert_allclose(mc.npv, det.npv, rtol=1e-12)
    np.testing.assert_allclose(mc.static_payback, det.static_payback_months, rtol=1e-12)


@pytest.mark.parametrize("basis", ["project", "equity"])
def test_fast_path_equals_full_table(h800: Scenario, basis: str) -> None:
    """The Monte Carlo hot path (project_cash) gives the full table's FCF and net income."""
    sc = with_overrides(
        h800,
        {
            "cash_flow_basis": basis,
            "financing.loan_share": 0.5,
            "financing.rate_annual": 0.07,
            "capex.network_install_amount": 5e6,
            "form.pass_through_per_server_month": 3000,
            "depreciation.resale_pct_at_end": 0.1,
            "form.receivable_days": 75,
        },
    )
    plan = build_plan(sc)
    spec = sc.montecarlo
    assert spec is not None
    draws = _operating_chunk(
        plan,
        spec.model_copy(update={"price_shock_probability_annual": 2.0}),
        np.random.default_rng(1),
        64,
    )
    full = project(plan, draws)
    fcf, income = project_cash(plan, draws)
    np.testing.assert_allclose(fcf, full.fcf, rtol=1e-9, atol=1e-3)
    np.testing.assert_allclose(income, full.net_income, rtol=1e-9, atol=1e-3)
