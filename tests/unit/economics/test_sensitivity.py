"""Tornado and two-way grid."""

from __future__ import annotations

import pytest

from suanli.core.errors import ValidationError
from suanli.economics.scenario import Scenario
from suanli.economics.sensitivity import grid, metric_of, tornado


def test_tornado_bars_sorted_and_directions(h800: Scenario) -> None:
    t = tornado(h800, delta=0.2)
    swings = [b.swing for b in t.bars]
    assert swings == sorted(swings, reverse=True)
    by = {b.input: b for b in t.bars}
    rent = by["form.rent_per_server_month"]
    assert rent.low_metric is not None and rent.high_metric is not None
    assert rent.low_metric < t.base_metric < rent.high_metric  # type: ignore[operator]
    price = by["fleet.unit_price"]
    assert price.low_metric > price.high_metric  # type: ignore[operator]
    occ = by["form.occupancy"]
    assert occ.high_value == pytest.approx(0.95)  # clamped to the ceiling
    assert t.bars[0].input in ("form.rent_per_server_month", "form.occupancy", "fleet.unit_price")


def test_tornado_any_numeric_input_and_metric(h800: Scenario) -> None:
    t = tornado(h800, inputs=["opex.pue", "form.receivable_days"], metric="static_payback_months")
    assert {b.input for b in t.bars} == {"opex.pue", "form.receivable_days"}
    with pytest.raises(ValidationError):
        tornado(h800, inputs=["taxes.prices_include_vat"])
    with pytest.raises(ValidationError):
        metric_of(h800, "name")


def test_grid_rent_by_occupancy(h800: Scenario) -> None:
    g = grid(
        h800,
        "form.rent_per_server_month",
        [75_000, 100_000, 120_000],
        "form.occupancy",
        [0.5, 0.8],
    )
    assert len(g.values) == 2 and len(g.values[0]) == 3
    for row in g.values:
        assert row == sorted(row)  # type: ignore[type-var]
    assert g.values[1][1] == pytest.approx(metric_of(h800, "npv"))
    assert g.values[0][2] < g.values[1][2]  # type: ignore[operator]
