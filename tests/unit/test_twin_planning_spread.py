"""``--demand-from-twin`` carries the twin's path spread into the planner's scenarios: the
lease ramp's blocks get ``units_sd`` and one common normal per scenario scales them, so the
lease demand in each block's start month has the twin's mean and Poisson standard deviation."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.economics.planning import default_spec
from suanli.economics.planning.sampling import sample
from suanli.economics.planning.spec import PlanningSpec
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.planning import spreads, twin_forecast, with_twin_demand


def _twin_spec(name: str) -> PlanningSpec:
    spec = with_twin_demand(default_spec(), load_twin(name))
    return spec.model_copy(update={"existing_units": 0.0})  # every unit of demand is visible


def test_spreads_add_up_to_the_twin_sd_at_each_block_start() -> None:
    """sd 3, 4, 4, 6 at block starts 0, 2, 3, 5 of [3, 3.5, 4, 4, 5, 6]: rises 3, 1, 0, 2."""
    sd = np.array([3.0, 3.5, 4.0, 4.0, 5.0, 6.0])
    assert spreads(sd, [0, 2, 3, 5]) == [3.0, 1.0, 0.0, 2.0]


@pytest.mark.parametrize("twin", ["fragmented-demand", "long-contracts"])
def test_planner_scenarios_have_the_twin_mean_and_sd(twin: str) -> None:
    spec = _twin_spec(twin)
    ramp = [lease for lease in spec.demand.pipeline if lease.customer.startswith("twin ramp")]
    assert ramp and all(lease.units_sd >= 0.0 for lease in ramp)
    forecast = twin_forecast(load_twin(twin), spec.horizon_months)
    flat = spec.model_copy(
        update={
            "demand": spec.demand.model_copy(
                update={
                    "pipeline": [
                        lease.model_copy(update={"units_sd": 0.0}) for lease in spec.demand.pipeline
                    ]
                }
            )
        }
    )
    mean = sample(flat, 200, 5).width.sum(axis=2)  # (S, H) the expected demand, no spread
    assert np.ptp(mean, axis=0).max() < 1e-9  # without the spread every scenario is the same
    total = sample(spec, 20_000, 5).width.sum(axis=2)
    for lease in ramp[1:]:
        m = lease.start_month
        assert total[:, m].std() == pytest.approx(forecast.leases_sd[m], rel=0.03)
        assert total[:, m].mean() == pytest.approx(mean[0, m], rel=0.01)  # clipping bias < 1 %


def test_the_common_factor_is_drawn_last() -> None:
    """A spread changes the leases' units only: delays, shortfalls, price trends and which
    leases are won are the same draws with and without it (files without a spread keep the
    random stream they had)."""
    spec = default_spec()
    pipeline = [lease.model_copy(update={"units_sd": 5.0}) for lease in spec.demand.pipeline]
    spread = spec.model_copy(
        update={"demand": spec.demand.model_copy(update={"pipeline": pipeline})}
    )
    a, b = sample(spec, 500, 9), sample(spread, 500, 9)
    assert np.array_equal(a.delay, b.delay)
    assert np.array_equal(a.shortfall, b.shortfall)
    assert np.array_equal(a.price_trend, b.price_trend)
    assert not np.array_equal(a.width, b.width)
