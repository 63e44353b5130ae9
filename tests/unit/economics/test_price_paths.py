"""Price paths: an input series, a floor, and contracted vs spot rent."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from suanli.economics.evaluate import flows_of
from suanli.economics.scenario import Scenario
from unit.economics.single_server import one_server


def _one(over: dict[str, Any]) -> Scenario:
    base = {"horizon_months": 24, "taxes.vat_rate": 0.0, "taxes.income_tax_rate": 0.0}
    return one_server({**base, **over})


def test_input_series_then_last_value_held() -> None:
    """Series 1.0, 0.8, 0.6 (months 1-3), held at 0.6: revenue 100k, 80k, 60k, 60k ..."""
    f = flows_of(_one({"form.price_series": [1.0, 0.8, 0.6]}))
    np.testing.assert_allclose(f.revenue[0, 1:5], [100_000, 80_000, 60_000, 60_000])


def test_floor_stops_the_decline() -> None:
    """50 % a year decline with a 0.7 floor: factor 0.5^(t/12) hits 0.7 at t = 6.2 months;
    month 12 would be 0.5 but earns 0.7 x 100k = 70k."""
    f = flows_of(_one({"form.price_decline_annual": 0.5, "form.price_floor": 0.7}))
    assert f.revenue[0, 12] == pytest.approx(70_000)
    assert f.revenue[0, 3] == pytest.approx(100_000 * 0.5 ** (3 / 12))


def test_contracted_share_is_fixed_for_its_term() -> None:
    """60 % contracted at the starting price for 12 months, 40 % spot at a series of 0.5 from
    month 1: months 1-12 earn (0.6 + 0.4 x 0.5) x 100k = 80k; from month 13 all spot, 50k."""
    f = flows_of(
        _one(
            {"form.price_series": [0.5], "form.contracted_share": 0.6, "form.contracted_months": 12}
        )
    )
    np.testing.assert_allclose(f.revenue[0, 1:13], 80_000)
    np.testing.assert_allclose(f.revenue[0, 13:], 50_000)
