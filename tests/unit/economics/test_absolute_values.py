"""Absolute economics values, not only signs and orderings (issue 11 §5).

Discounting month ``t`` by ``(1 + r)^(t+1)`` instead of ``(1 + r)^t`` keeps every sign and
ordering; a break-even search that stops widening its bracket still finds roots near the quoted
price. These tests pin the figures themselves.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from suanli.economics.breakeven import breakeven_unit_revenue, value_at
from suanli.economics.cashflow import deterministic_draws, discounted_cumulative, project
from suanli.economics.metrics import npv
from suanli.economics.plan import build_plan
from suanli.economics.scenario import Scenario


def test_month_zero_is_not_discounted() -> None:
    """fcf (−100, 110, 121) at 10 %/month: −100, −100 + 110/1.1 = 0, 0 + 121/1.21 = 100."""
    out = discounted_cumulative(np.array([[-100.0, 110.0, 121.0]]), 0.10)
    np.testing.assert_allclose(out, [[-100.0, 0.0, 100.0]], rtol=0, atol=1e-9)


def test_projected_npv_equals_npv_of_its_cash_flows(h800: Scenario) -> None:
    """The engine's last discounted cumulative is the NPV of its own free cash flows (month 0
    undiscounted, as numpy-financial's ``npv``), to 1e-9 relative."""
    plan = build_plan(h800)
    flows = project(plan, deterministic_draws(plan))
    expected = npv(plan.discount_monthly, flows.fcf[0])
    assert float(flows.discounted_cumulative[0, -1]) == pytest.approx(expected, rel=1e-9)
    assert float(flows.fcf[0, 0]) == pytest.approx(float(flows.discounted_cumulative[0, 0]))


def test_breakeven_widens_its_bracket_far_above_the_quoted_price(h800: Scenario) -> None:
    """Quoted at 1/100 of its price, the plan loses money; the search must double its upper
    bound several times (×2^7 or more) to bracket the root, which then zeroes the NPV."""
    plan = build_plan(h800)
    cheap = dataclasses.replace(plan, unit_revenue=plan.unit_revenue / 100)
    root = breakeven_unit_revenue(cheap)
    assert root is not None and root > cheap.unit_revenue * 64
    at_root = value_at(dataclasses.replace(cheap, unit_revenue=root), "npv")
    scale = abs(value_at(cheap, "npv"))
    assert abs(at_root) <= 1e-6 * scale
    assert breakeven_unit_revenue(plan) == pytest.approx(root, rel=1e-6)
