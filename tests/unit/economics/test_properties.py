"""Monotonicity properties (Hypothesis): higher rent never lowers NPV; higher occupancy never
lengthens payback. Scenarios are drawn over wide but sane ranges; rent stays above the extra
power an occupied server draws (otherwise renting out a server *costs* money and occupancy
monotonicity rightly fails)."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from suanli.economics.evaluate import evaluate
from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.scenario import Scenario

BASE = load_bundled("h800-bare-metal-2p1m")


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "fleet.unit_price": draw(st.floats(0.5e6, 4e6)),
        "fleet.delivered_fraction": draw(st.floats(0.1, 1.0)),
        "opex.power_price_kwh": draw(st.floats(0.1, 1.0)),
        "opex.staff_per_month": draw(st.floats(0.0, 1e6)),
        "financing.loan_share": draw(st.floats(0.0, 0.8)),
        "financing.rate_annual": draw(st.floats(0.0, 0.12)),
        "cash_flow_basis": draw(st.sampled_from(["project", "equity"])),
        "form.ramp_months": draw(st.integers(0, 12)),
        "form.initial_occupancy": draw(st.floats(0.0, 0.5)),
        "form.contract_months": draw(st.integers(1, 36)),
        "form.price_decline_annual": draw(st.floats(-0.1, 0.5)),
        "form.receivable_days": draw(st.floats(0.0, 180.0)),
        "form.bad_debt_pct": draw(st.floats(0.0, 0.05)),
        "depreciation.resale_pct_at_end": draw(st.floats(0.0, 0.3)),
        "taxes.income_tax_rate": draw(st.sampled_from([0.0, 0.15, 0.25])),
        "horizon_months": draw(st.integers(12, 120)),
        "discount_rate_annual": draw(st.floats(0.0, 0.2)),
    }


def _eval(base: dict[str, Any], **extra: Any) -> Any:
    sc: Scenario = with_overrides(
        BASE, {**base, **{k.replace("__", "."): v for k, v in extra.items()}}
    )
    return evaluate(sc, with_breakeven=False)


@settings(max_examples=60, deadline=None)
@given(
    params=scenarios(),
    occupancy=st.floats(0.05, 0.95),
    rents=st.tuples(st.floats(20_000, 200_000), st.floats(20_000, 200_000)),
)
def test_higher_rent_never_lowers_npv(
    params: dict[str, Any], occupancy: float, rents: tuple[float, float]
) -> None:
    lo, hi = sorted(rents)
    a = _eval(params, form__occupancy=occupancy, form__rent_per_server_month=lo)
    b = _eval(params, form__occupancy=occupancy, form__rent_per_server_month=hi)
    assert b.npv >= a.npv - 1e-6 * max(1.0, abs(a.npv))


def _months(x: float | None) -> float:
    return math.inf if x is None else x


@settings(max_examples=60, deadline=None)
@given(
    params=scenarios(),
    rent=st.floats(20_000, 200_000),
    occupancies=st.tuples(st.floats(0.0, 0.95), st.floats(0.0, 0.95)),
)
def test_higher_occupancy_never_lengthens_payback(
    params: dict[str, Any], rent: float, occupancies: tuple[float, float]
) -> None:
    lo, hi = sorted(occupancies)
    a = _eval(params, form__occupancy=lo, form__rent_per_server_month=rent)
    b = _eval(params, form__occupancy=hi, form__rent_per_server_month=rent)
    assert _months(b.static_payback_months) <= _months(a.static_payback_months) + 1e-9
    assert _months(b.dynamic_payback_months) <= _months(a.dynamic_payback_months) + 1e-9
