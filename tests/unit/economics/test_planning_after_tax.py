"""The planner values plans on the economics engine's after-tax cash flow.

- a plan's reported NPV equals ``econ evaluate`` of the same servers written as an economics
  scenario, to 1e-9 (VAT credit carried forward, surcharges, 5-year loss expiry, the one-time
  deduction, equity and project cash flows, retirement and resale at the horizon);
- with every tax linear (no income tax, no VAT credit, no surcharges) the MILP's additive
  objective equals the engine's value in every scenario, with delays, shortfalls, deposits and
  loans drawn (the two code paths agree);
- tax changes the ranking where it should: the one-time deduction for servers under 5 M a unit
  makes the planner prefer the eligible SKU inside the eligibility window and not outside it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from suanli.economics.evaluate import evaluate
from suanli.economics.planning import default_spec, plan_purchase, spec_from_mapping
from suanli.economics.planning.planner import batch
from suanli.economics.planning.spec import PlanningSpec
from suanli.economics.planning.valuation import plan_npv, plan_value
from suanli.economics.scenario import Scenario

PRICE = 1_500_000.0  # VAT-exclusive
RENT = 150_000.0
OPEX = 12_000.0
LEAD = 2
COUNT = 8


def planning(life: int, taxes: dict[str, Any]) -> PlanningSpec:
    return spec_from_mapping(
        {
            "decision_months": 3,
            "horizon_months": 60,
            "discount_rate_annual": 0.1,
            "demand": {"base_units": 10, "rent_per_unit_month": RENT},
            "sku": [
                {
                    "name": "H800",
                    "unit_price": PRICE,
                    "lead_time_months": LEAD,
                    "deposit_pct": 0.0,
                    "opex_per_month": OPEX,
                    "useful_life_months": life,
                    "salvage_pct": 0.05,
                    "resale_pct_of_book": 0.5,
                }
            ],
            "financing": {"loan_share": 0.5, "rate_annual": 0.06, "term_months": 36},
            "taxes": taxes,
            "solver": {"scenarios": 4, "oos_scenarios": 4},
        }
    )


def econ_scenario(life: int, taxes: dict[str, Any]) -> Scenario:
    """The same servers as an economics scenario: 8 servers delivered in month 2 at the
    VAT-inclusive price, fully let at the rent, opex as a per-server fee, the planner's tax
    settings; a server still running at the horizon resold at half its straight-line book
    value (1 - 0.95 x 58 / 60 of its price), one retired at 48 months at its 5 % salvage."""
    running = LEAD + life > 60
    resale = 0.5 * (1.0 - 0.95 * (60 - LEAD) / life) if running else 0.05
    tax_method = taxes.get("tax_method")
    return Scenario.model_validate(
        {
            "horizon_months": 60,
            "start_date": taxes.get("start_date"),
            "discount_rate_annual": 0.1,
            "cash_flow_basis": taxes.get("cash_flow", "equity"),
            "fleet": {
                "sku": "HGX-H800-8",
                "count": COUNT,
                "unit_price": PRICE * 1.13,
                "delivery": [{"month": LEAD, "count": COUNT}],
            },
            "financing": {
                "loan_share": 0.5,
                "rate_annual": 0.06,
                "term_months": 36,
                "rate_convention": "nominal",
            },
            "opex": {"power_price_kwh": 0.0, "cabinet_fee": OPEX},
            "taxes": {
                "vat_rate": 0.13,
                "prices_include_vat": False,
                "income_tax_rate": 0.25,
                "credit_input_vat": True,
                "input_vat_rate": 0.13,
                "surcharge_rate": 0.12,
                "loss_carryforward_years": 5,
            },
            "depreciation": {
                "years": life / 12,
                "salvage_pct": 0.05,
                "resale_pct_at_end": resale,
                "tax_method": tax_method,
            },
            "end_of_life": {"useful_life_years": life / 12},
            "form": {
                "kind": "bare_metal",
                "rent_per_server_month": RENT,
                "occupancy": 1.0,
                "occupancy_ceiling": 1.0,
                "receivable_days": 0.0,
            },
        }
    )


CASES = [
    (48, {}),
    (60, {}),
    (48, {"cash_flow": "project"}),
    (60, {"tax_method": "one_time", "start_date": date(2026, 1, 1)}),
    (48, {"tax_method": "one_time", "start_date": date(2026, 1, 1), "cash_flow": "project"}),
]


@pytest.mark.parametrize(("life", "taxes"), CASES)
def test_plan_value_equals_econ_evaluate(life: int, taxes: dict[str, Any]) -> None:
    """8 servers ordered in month 0 (all delivered in month 2, all let): the planner's value
    is the engine's NPV of the same scenario."""
    spec = planning(life, taxes)
    ins = batch(spec, 4, 0)
    x = np.zeros((1, 3))
    x[0, 0] = COUNT
    value = plan_value(spec, ins.scenarios, x, ins.costs)
    expected = evaluate(econ_scenario(life, taxes), with_breakeven=False).npv
    assert np.allclose(value, expected, rtol=1e-9, atol=0.005)
    # the tax settings matter: pre-tax the same plan is worth something else
    pre = spec.model_copy(update={"taxes": spec.taxes.model_copy(update={"basis": "pre_tax"})})
    assert abs(float(plan_value(pre, ins.scenarios, x).mean()) - expected) > 1e5


def linear_taxes(spec: PlanningSpec) -> PlanningSpec:
    taxes = spec.taxes.model_copy(
        update={"income_tax_rate": 0.0, "credit_input_vat": False, "surcharge_rate": 0.0}
    )
    return spec.model_copy(update={"taxes": taxes})


@pytest.mark.parametrize("cash_flow", ["equity", "project"])
def test_linear_objective_equals_engine_when_taxes_are_linear(cash_flow: str) -> None:
    """The bundled plan file (3 SKUs, delays, shortfalls, deposits, a loan) with no income tax,
    no VAT credit and no surcharges: nothing is carried forward, so the MILP's additive value
    of a mixed plan equals the engine's in each of 50 scenarios."""
    spec = linear_taxes(default_spec())
    spec = spec.model_copy(update={"taxes": spec.taxes.model_copy(update={"cash_flow": cash_flow})})
    ins = batch(spec, 50, 3)
    x = np.zeros((3, 24))
    x[0, 0], x[0, 7], x[1, 2], x[2, 20] = 20, 5, 30, 12
    assert ins.scenarios.shortfall.max() > 0.1 and ins.scenarios.delay.max() > 3
    linear = plan_npv(spec, ins.scenarios, x, ins.costs)
    engine = plan_value(spec, ins.scenarios, x, ins.costs)
    assert np.allclose(linear, engine, rtol=1e-9, atol=0.01)


def eligibility_spec(until: date, basis: str = "after_tax") -> PlanningSpec:
    """Two SKUs for 10 units of demand at 160k a unit-month: A (4.9 M, one unit, under the 5 M
    one-time limit) and B (9.6 M for two units: 2 % cheaper per unit, above the limit). Before
    tax B is the better buy; the one-time deduction is worth about 25 % x 4.9 M x (1 - the PV
    factor of 5-year straight line, ~0.8) ~ 0.25 M per A server, more than B's 0.1 M price
    edge per unit, so inside the window A wins."""
    sku = {
        "lead_time_months": 0,
        "deposit_pct": 0.0,
        "useful_life_months": 60,
        "salvage_pct": 0.0,
        "resale_pct_of_book": 0.0,
    }
    return spec_from_mapping(
        {
            "decision_months": 1,
            "horizon_months": 60,
            "discount_rate_annual": 0.08,
            "demand": {"base_units": 10, "rent_per_unit_month": 160_000},
            "sku": [
                {"name": "A", "unit_price": 4_900_000, "capacity_units": 1.0, **sku},
                {"name": "B", "unit_price": 9_600_000, "capacity_units": 2.0, **sku},
            ],
            "taxes": {
                "basis": basis,
                "tax_method": "one_time",
                "start_date": date(2026, 1, 1),
                "one_time_eligible_until": until,
                "loss_carryforward_years": None,
            },
            "risk": {"measure": "cvar", "max_cvar_loss": 1e12},
            "solver": {"scenarios": 4, "oos_scenarios": 4, "mip_rel_gap": 0.0},
        }
    )


def bought(spec: PlanningSpec) -> dict[str, int]:
    plan = plan_purchase(spec)
    return {o.sku: o.count for o in plan.chosen.orders}


def test_one_time_deduction_eligibility_changes_the_ranking() -> None:
    assert bought(eligibility_spec(date(2027, 12, 31))) == {"A": 10}
    assert bought(eligibility_spec(date(2025, 12, 31))) == {"B": 5}
    assert bought(eligibility_spec(date(2027, 12, 31), basis="pre_tax")) == {"B": 5}


def test_every_plan_meets_its_limit_on_the_engines_in_sample_values() -> None:
    """The MILP enforces the CVaR limit on the linear after-tax NPV (losses relieved at once);
    the engine carries losses forward, which made the chosen plan's exact in-sample CVaR -13.1 M
    against a -10 M limit before the planner scaled such a plan down until the engine's values
    meet the limit. Now every plan of the bundled frontier meets its limit on them."""
    spec = default_spec()
    solver = spec.solver.model_copy(update={"scenarios": 60, "oos_scenarios": 200})
    plan = plan_purchase(spec.model_copy(update={"solver": solver}))
    for p in (plan.chosen, *plan.frontier):
        assert p.limit is not None
        assert p.in_sample.cvar >= -p.limit - 1.0
        assert p.in_sample.expected_npv >= 0.0  # never worse than buying nothing, in sample
    assert plan.chosen.servers > 0  # tightening did not simply buy nothing
