"""NPV, IRR and payback: agreement with numpy-financial and the explicit no-IRR cases."""

from __future__ import annotations

import math

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from suanli.economics.metrics import annualise, irr, npv, payback

# Money in cents: real cash flows, without denormal floats that break np.roots in both libraries.
amounts = st.floats(min_value=-1e7, max_value=1e7).map(lambda x: round(x, 2))
cents = st.floats(min_value=0.0, max_value=1e7).map(lambda x: round(x, 2))


@given(
    rate=st.floats(min_value=-0.5, max_value=1.0),
    flows=st.lists(amounts, min_size=1, max_size=121),
)
def test_npv_matches_numpy_financial(rate: float, flows: list[float]) -> None:
    expected = float(npf.npv(rate, flows))
    assert math.isclose(npv(rate, flows), expected, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=200)
@given(
    outlay=st.floats(min_value=1e3, max_value=1e8).map(lambda x: round(x, 2)),
    inflows=st.lists(cents, min_size=1, max_size=120),
)
def test_irr_matches_numpy_financial_on_conventional_flows(
    outlay: float, inflows: list[float]
) -> None:
    """One sign change: exactly one IRR exists; both must find it (to 1e-6)."""
    assume(max(inflows) > 1e-3 * outlay)
    flows = [-outlay, *inflows]
    result = irr(flows)
    expected = float(npf.irr(flows))
    assert result.status == "ok"
    assume(not math.isnan(expected))  # numpy-financial misses roots with tiny imaginary parts
    assert result.monthly is not None
    # 1e-6 absolute for any realistic rate; beyond 100 %/month (a tiny outlay followed by a huge
    # inflow, e.g. IRR ~ 3,600/month) doubles carry ~16 digits, so the bound becomes relative.
    assert abs(result.monthly - expected) <= 1e-6 * max(1.0, abs(expected))
    assert abs(npv(result.monthly, flows)) <= 1e-6 * max(abs(f) for f in flows)


@settings(max_examples=200)
@given(flows=st.lists(amounts, min_size=2, max_size=40))
def test_irr_matches_numpy_financial_on_any_flows(flows: list[float]) -> None:
    """Arbitrary signs: where numpy-financial finds an IRR and ours finds exactly one, they agree;
    where ours reports several, numpy-financial's choice (closest to zero) is ours."""
    expected = float(npf.irr(flows))
    result = irr(flows)
    if math.isnan(expected):
        return
    assert result.status in ("ok", "multiple")
    assert result.monthly is not None
    assert abs(result.monthly - expected) <= 1e-6 * max(1.0, abs(expected))


def test_no_sign_change_has_no_irr() -> None:
    for flows in ([100.0, 5.0, 5.0], [-100.0, -5.0], [0.0, 0.0]):
        result = irr(flows)
        assert result.status == "no_sign_change"
        assert result.monthly is None and result.annual is None


def test_sign_change_without_real_root() -> None:
    # -1 + 2x - 2x^2 = 0 has discriminant 4 - 8 < 0: two sign changes, no real IRR.
    result = irr([-1.0, 2.0, -2.0])
    assert result.status == "no_root"
    assert math.isnan(float(npf.irr([-1.0, 2.0, -2.0])))


def test_multiple_irrs_are_reported() -> None:
    # Roots at 10 % and 20 % (classic mine example): -100, 230, -132.
    result = irr([-100.0, 230.0, -132.0])
    assert result.status == "multiple"
    assert result.roots == pytest.approx((0.1, 0.2), abs=1e-9)
    assert result.monthly == pytest.approx(0.1, abs=1e-9)


def test_annualise_compounds_monthly_rate() -> None:
    assert annualise(0.01) == pytest.approx(1.01**12 - 1)
    result = irr([-1000.0] + [100.0] * 12)
    assert result.annual == pytest.approx((1 + float(npf.irr([-1000.0] + [100.0] * 12))) ** 12 - 1)


def test_payback_interpolates_and_requires_staying_positive() -> None:
    cum = np.array(
        [[-100.0, -50.0, 0.0, 50.0], [-100.0, 10.0, -5.0, 20.0], [-3.0, -2.0, -1.0, -0.5]]
    )
    out = payback(cum)
    assert out[0] == pytest.approx(2.0)  # reaches 0 exactly at month 2
    # crosses at month 1, dips again at 2, for good from month 3: 2 + 5/25
    assert out[1] == pytest.approx(2.2)
    assert math.isnan(out[2])
