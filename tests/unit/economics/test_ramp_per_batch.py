"""The occupancy ramp restarts for each delivery batch (issue 17, delivery risk): a late batch,
a delayed schedule and a replacement batch each ramp from their own delivery."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.economics.delivery_risk import delayed
from suanli.economics.evaluate import evaluate, flows_of
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import run_montecarlo
from suanli.economics.plan import build_plan
from suanli.economics.scenario import Scenario

RAMP = {"form.ramp_months": 3, "form.initial_occupancy": 0.2}
STAGGERED = {"fleet.delivery": [{"month": 0, "count": 12}, {"month": 6, "count": 88}]}


def _occupied(sc: Scenario) -> np.ndarray:
    plan = build_plan(sc)
    return (plan.ramp_a + plan.level * plan.ramp_b) * plan.active_prop


def _only(sc: Scenario, **mc: object) -> Scenario:
    data = sc.model_dump(mode="python", exclude_none=True)
    data["montecarlo"] = mc
    return type(sc).model_validate(data)


def test_one_batch_in_month_0_is_the_single_ramp(h800: Scenario) -> None:
    sc = with_overrides(h800, RAMP)
    one = flows_of(with_overrides(sc, {"form.ramp_per_batch": False}))
    per_batch = flows_of(sc)
    for col in ("revenue", "power", "fcf", "net_income"):
        assert np.allclose(per_batch.column(col), one.column(col), rtol=1e-12, atol=1e-6)


def test_a_late_batch_ramps_from_its_own_delivery(h800: Scenario) -> None:
    """12 servers in month 0, 88 in month 6; ramp 3 months from 20 % to the level 80 %.
    A batch delivered in month d has occupancy 0.2 + (0.8 - 0.2) * min(1, (t - d) / 3) from
    month d + 1. Occupied servers:
    month 1: 12 x (0.2 + 0.6/3) = 12 x 0.4 = 4.8;
    month 7: 12 x 0.8 + 88 x 0.4 = 9.6 + 35.2 = 44.8 (one ramp from month 0: 100 x 0.8 = 80);
    month 8: 9.6 + 88 x 0.6 = 62.4;  month 9: 100 x 0.8 = 80."""
    sc = with_overrides(h800, {**RAMP, **STAGGERED})
    occ = _occupied(sc)
    assert occ[1] == pytest.approx(4.8)
    assert occ[7] == pytest.approx(44.8)
    assert occ[8] == pytest.approx(62.4)
    assert occ[9] == pytest.approx(80.0)
    single = _occupied(with_overrides(sc, {"form.ramp_per_batch": False}))
    assert single[7] == pytest.approx(80.0)
    assert (
        evaluate(sc, with_breakeven=False).npv
        < evaluate(with_overrides(sc, {"form.ramp_per_batch": False}), with_breakeven=False).npv
    )


def test_replacement_at_end_of_life_keeps_its_customers(h800: Scenario) -> None:
    """A 2-year life replaced in month 24 over a 48-month horizon: no new ramp in month 25."""
    sc = with_overrides(
        h800,
        {
            **RAMP,
            "horizon_months": 48,
            "end_of_life.useful_life_years": 2,
            "end_of_life.replace": True,
        },
    )
    occ = _occupied(sc)
    assert occ[25] == pytest.approx(80.0)
    assert occ[24] == pytest.approx(80.0)


def test_a_delayed_schedule_ramps_late_in_the_montecarlo(h800: Scenario) -> None:
    """A fixed 3-month delay is the schedule shifted by 3 months, ramp included: the loss
    against on-time delivery is larger than when the ramp ran from month 0 regardless."""
    sc = with_overrides(h800, RAMP)
    flat = with_overrides(sc, {"form.ramp_per_batch": False})
    late = run_montecarlo(_only(sc, delivery_delay_months={"dist": "fixed", "value": 3}), 5, 1)
    late_flat = run_montecarlo(
        _only(flat, delivery_delay_months={"dist": "fixed", "value": 3}), 5, 1
    )
    assert np.allclose(late.npv, evaluate(delayed(sc, 3), with_breakeven=False).npv, rtol=1e-12)
    assert late.npv[0] < late_flat.npv[0]


def test_replacement_batch_ramps_from_its_arrival(h800: Scenario) -> None:
    """Nothing delivered; everything bought again at the same price arriving 6 months later:
    every path is the deterministic case delivered in month 6, whose ramp starts in month 7.
    With a single ramp from month 0 the replacement would arrive already at the level."""
    sc = with_overrides(h800, RAMP)
    mc = run_montecarlo(
        _only(
            sc,
            delivery_shortfall={"dist": "fixed", "value": 1.0},
            replacement_share=1.0,
            replacement_lead_months=6,
        ),
        4,
        seed=2,
    )
    expected = evaluate(delayed(sc, 6), with_breakeven=False).npv
    assert np.allclose(mc.npv, expected, rtol=1e-9)
    flat_expected = evaluate(
        delayed(with_overrides(sc, {"form.ramp_per_batch": False}), 6), with_breakeven=False
    ).npv
    assert expected < flat_expected


def test_partial_replacement_mixes_the_two_ramps(h800: Scenario) -> None:
    """Half delivered in month 0, the other half replaced arriving in month 6 (same price):
    the per-path mixed plan is the deterministic 50 in month 0 + 50 in month 6, ramps included.
    """
    sc = with_overrides(h800, {**RAMP, "capex.network_install_pct": 0.0})
    mc = run_montecarlo(
        _only(
            sc,
            delivery_shortfall={"dist": "fixed", "value": 0.5},
            replacement_share=1.0,
            replacement_lead_months=6,
        ),
        3,
        seed=4,
    )
    split = with_overrides(
        sc, {"fleet.delivery": [{"month": 0, "count": 50}, {"month": 6, "count": 50}]}
    )
    assert np.allclose(mc.npv, evaluate(split, with_breakeven=False).npv, rtol=1e-9)
