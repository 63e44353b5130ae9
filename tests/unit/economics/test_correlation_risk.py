"""Correlated price / occupancy risk, CVaR and the payback distribution of the Monte Carlo."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import cvar, payback_distribution, quantile, run_montecarlo
from suanli.economics.scenario import Dist

# With these, the 120k-rent case usually makes money (P(loss) ~ 27 %): loss is a tail event.
MILD: dict[str, Any] = {
    "montecarlo.occupancy": {"dist": "triangular", "low": 0.5, "mode": 0.8, "high": 0.9},
    "montecarlo.price_decline_annual": {"dist": "uniform", "low": 0.0, "high": 0.25},
    "montecarlo.delivery_shortfall": None,
    "montecarlo.price_shock_probability_annual": 0.0,
}


def _summary(
    rho: float, over: dict[str, Any] | None = None, name: str = "h800-bare-metal-2p1m"
) -> dict[str, Any]:
    sc = with_overrides(
        load_bundled(name),
        {**(over or {}), "montecarlo.price_occupancy_correlation": rho},
    )
    return run_montecarlo(sc, paths=20_000, seed=11).summary()


def test_stronger_positive_correlation_never_lowers_p_loss_when_loss_is_a_tail() -> None:
    """Property, on common random numbers (same seed) and rho = 0.05, 0.3, 0.6, 0.9: with
    P(loss) < 50 % a glut that cuts price and occupancy together fattens the losing tail, so
    P(loss) does not fall (sampling tolerance 0.2 points) and CVaR 5 % does not improve."""
    runs = [_summary(r, MILD, "h800-bare-metal-rent120k") for r in (0.05, 0.3, 0.6, 0.9)]
    losses = [r["probability_of_loss"] for r in runs]
    assert losses[0] < 0.5
    assert all(b >= a - 0.002 for a, b in itertools.pairwise(losses))
    assert losses[-1] > losses[0] + 0.01
    tails = [r["npv_cvar_5"] for r in runs]
    assert all(b <= a + 1e-6 * abs(a) for a, b in itertools.pairwise(tails))


def test_correlation_worsens_the_tail_even_when_most_paths_lose() -> None:
    """The bundled harsh case loses on most paths (P(loss) ~ 88 %): there correlation spreads
    outcomes both ways, so P(loss) may fall (documented), but CVaR 5 % still gets worse."""
    weak, strong = _summary(0.05), _summary(0.9)
    assert weak["probability_of_loss"] > 0.5
    assert strong["npv_cvar_5"] < weak["npv_cvar_5"]


def test_copula_keeps_the_marginals() -> None:
    """Uniform(0, 0.35) through the inverse CDF of uniform ranks stays uniform: mean 0.175;
    triangular(0.3, 0.7, 0.9) has mean (0.3 + 0.7 + 0.9) / 3 = 0.633."""
    u = (np.arange(100_000) + 0.5) / 100_000
    uni = Dist(dist="uniform", low=0.0, high=0.35)
    tri = Dist(dist="triangular", low=0.3, mode=0.7, high=0.9)
    assert quantile(uni, 0.0, u).mean() == pytest.approx(0.175, abs=1e-4)
    assert quantile(tri, 0.0, u).mean() == pytest.approx(1.9 / 3, abs=1e-4)


def test_cvar_and_payback_distribution() -> None:
    """CVaR 5 % of 1..100 = mean of the 5 lowest = 3. Paybacks 6, 18, 30, never: a quarter
    each in years 1, 2, 3 and never."""
    assert cvar(np.arange(1.0, 101.0), 0.05) == pytest.approx(3.0)
    dist = payback_distribution(np.array([6.0, 18.0, 30.0, np.nan]))
    assert dist == {"year_1": 0.25, "year_2": 0.25, "year_3": 0.25, "never": 0.25}


@settings(max_examples=8, deadline=None, derandomize=True)
@given(rent=st.integers(min_value=75, max_value=160).map(lambda k: k * 1_000))
def test_correlation_moves_p_loss_towards_one_half_from_either_side(rent: int) -> None:
    """The general statement (docs/economics.md): if NPV were linear in the two normal scores,
    loss = {a z1 + b z2 < c} with a, b > 0 and P(loss) = Phi(c / sqrt(a^2 + b^2 + 2ab rho)),
    which rises with rho exactly when c < 0, i.e. P(loss) < 1/2, and falls when P(loss) > 1/2.
    The engine's NPV is close to linear in the occupancy and price levels, so for any rent, on
    common random numbers: P(loss) and P(NPV < 0) both below 45 % at rho 0.1 and 0.8 -> the
    stronger correlation does not lower them; both above 55 % -> it does not raise them
    (sampling tolerance 0.5 points, 20,000 paths)."""
    over = {**MILD, "form.rent_per_server_month": rent}
    weak, strong = (_summary(rho, over, "h800-bare-metal-rent120k") for rho in (0.1, 0.8))
    for key in ("probability_of_loss", "probability_npv_negative"):
        lo, hi = weak[key], strong[key]
        if max(lo, hi) < 0.45:
            assert hi >= lo - 0.005
        elif min(lo, hi) > 0.55:
            assert hi <= lo + 0.005
