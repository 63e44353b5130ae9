"""Delivery risk in the Monte Carlo: late batches (shifted schedules) and lost deposits."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.economics.delivery_risk import delayed
from suanli.economics.evaluate import evaluate
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import run_montecarlo
from suanli.economics.scenario import Scenario


def _only(h800: Scenario, **mc: object) -> Scenario:
    data = h800.model_dump(mode="python", exclude_none=True)
    data["montecarlo"] = mc
    return type(h800).model_validate(data)


def test_zero_delay_changes_nothing(h800: Scenario) -> None:
    """A delay fixed at 0 is drawn after every other input: same streams, same NPVs."""
    base = run_montecarlo(h800, 3000, seed=5)
    spec = h800.montecarlo.model_dump(exclude_none=True) if h800.montecarlo else {}
    late0 = _only(h800, **spec, delivery_delay_months={"dist": "fixed", "value": 0})
    assert np.array_equal(run_montecarlo(late0, 3000, seed=5).npv, base.npv)


def test_fixed_delay_is_the_shifted_schedule(h800: Scenario) -> None:
    """With no other uncertainty every path is the deterministic case delivered 3 months late."""
    sc = _only(h800, delivery_delay_months={"dist": "fixed", "value": 3})
    mc = run_montecarlo(sc, 50, seed=1)
    expected = evaluate(delayed(h800, 3), with_breakeven=False).npv
    assert np.allclose(mc.npv, expected, rtol=1e-12)
    assert expected < evaluate(h800, with_breakeven=False).npv


def test_random_delays_cost_money_and_are_reproducible(h800: Scenario) -> None:
    sc = _only(h800, delivery_delay_months={"dist": "uniform", "low": 0, "high": 6})
    a = run_montecarlo(sc, 2000, seed=3, chunk_size=500)
    b = run_montecarlo(sc, 2000, seed=3, chunk_size=500)
    assert np.array_equal(a.npv, b.npv)
    on_time = evaluate(h800, with_breakeven=False).npv
    late6 = evaluate(delayed(h800, 6), with_breakeven=False).npv
    assert late6 - 1.0 <= a.npv.min() and a.npv.max() <= on_time + 1.0
    assert len(np.unique(np.round(a.npv))) == 7  # delays 0..6 months


def test_deposit_on_the_shortfall_is_lost(h800: Scenario) -> None:
    """100 servers at 2.1 M, deposit 30 %, 20 % never delivered: 0.3 x 210 M x 0.2 = 12.6 M
    lost in month 0 (undiscounted), from cash and from net income (not deducted for tax)."""
    short = {"dist": "fixed", "value": 0.2}
    kept = run_montecarlo(_only(h800, delivery_shortfall=short), 10, seed=1)
    lost = run_montecarlo(_only(h800, delivery_shortfall=short, deposit_pct=0.3), 10, seed=1)
    assert kept.npv - lost.npv == pytest.approx(np.full(10, 12.6e6), rel=1e-12)
    assert kept.net_income - lost.net_income == pytest.approx(np.full(10, 12.6e6), rel=1e-12)


def test_delay_capped_inside_the_horizon(h800: Scenario) -> None:
    late = delayed(with_overrides(h800, {"horizon_months": 24}), 100)
    assert late.fleet is not None and [d.month for d in late.fleet.schedule()] == [23]


def test_full_replacement_at_the_same_price_and_time_undoes_the_shortfall(h800: Scenario) -> None:
    """20 % never delivered, all of it bought again at the same price arriving with the rest:
    the fleet is whole again, so every path is the deterministic case."""
    short = {"dist": "fixed", "value": 0.2}
    sc = _only(h800, delivery_shortfall=short, replacement_share=1.0, replacement_lead_months=0)
    mc = run_montecarlo(sc, 20, seed=1)
    assert np.allclose(mc.npv, evaluate(h800, with_breakeven=False).npv, rtol=1e-9)


def test_replacement_later_and_dearer_costs_more(h800: Scenario) -> None:
    """The article's case: 2.1 M servers short, replaced at 2.8 M (factor 4/3) 3 months late.
    In the profitable base case replacing on time at the old price is best, 3 months later is
    worse (3 months less rent, same costs over the life), later and dearer worse still."""
    short = {"dist": "fixed", "value": 0.2}
    npv = {}
    for name, extra in {
        "on_time": {"replacement_lead_months": 0},
        "late": {"replacement_lead_months": 3},
        "late_dear": {"replacement_lead_months": 3, "replacement_price_factor": 4 / 3},
    }.items():
        sc = _only(h800, delivery_shortfall=short, replacement_share=1.0, **extra)
        npv[name] = float(run_montecarlo(sc, 10, seed=1).npv[0])
    assert npv["on_time"] > npv["late"] > npv["late_dear"]


def test_replacement_with_random_delays_and_shortfalls_is_reproducible(h800: Scenario) -> None:
    spec = h800.montecarlo.model_dump(exclude_none=True) if h800.montecarlo else {}
    risky = {
        **spec,
        "delivery_delay_months": {"dist": "triangular", "low": 0, "mode": 1, "high": 6},
        "deposit_pct": 0.3,
        "replacement_share": 0.5,
        "replacement_price_factor": 1.4,
    }
    sc = _only(h800, **risky)
    a = run_montecarlo(sc, 3000, seed=9, chunk_size=1000)
    b = run_montecarlo(sc, 3000, seed=9, chunk_size=1000)
    assert np.array_equal(a.npv, b.npv) and np.all(np.isfinite(a.npv))
