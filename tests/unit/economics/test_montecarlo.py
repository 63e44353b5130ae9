"""Monte Carlo: reproducible, vectorised, chunked, and its statistics behave."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.economics.library import load_bundled
from suanli.economics.loader import with_overrides
from suanli.economics.montecarlo import run_montecarlo, sample
from suanli.economics.scenario import Dist, Scenario


def test_same_seed_same_numbers_other_seed_other_numbers(h800: Scenario) -> None:
    a = run_montecarlo(h800, paths=3000, seed=7, chunk_size=1000)
    b = run_montecarlo(h800, paths=3000, seed=7, chunk_size=1000)
    c = run_montecarlo(h800, paths=3000, seed=8, chunk_size=1000)
    assert np.array_equal(a.npv, b.npv)
    assert np.array_equal(a.static_payback, b.static_payback, equal_nan=True)
    assert not np.array_equal(a.npv, c.npv)


def test_progress_reports_each_chunk(h800: Scenario) -> None:
    seen: list[tuple[int, int]] = []
    run_montecarlo(
        h800, paths=2500, seed=1, chunk_size=1000, progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_summary_quantiles_and_probabilities(h800: Scenario) -> None:
    mc = run_montecarlo(h800, paths=4000, seed=11)
    s = mc.summary()
    assert s["npv"]["p10"] <= s["npv"]["p50"] <= s["npv"]["p90"]
    assert s["probability_of_loss"] == pytest.approx(float(np.mean(mc.net_income < 0)))
    assert 0.0 < s["probability_npv_negative"] < 1.0
    never = s["share_never_paying_back"]
    assert (s["static_payback_months"]["p90"] is None) == (never > 0.1)
    assert mc.fan["p10"].shape == (h800.horizon_months + 1,)
    assert np.all(mc.fan["p10"] <= mc.fan["p90"])


def test_more_price_decline_means_more_losses(h800: Scenario) -> None:
    mild = with_overrides(
        h800, {"montecarlo.price_decline_annual": {"dist": "fixed", "value": 0.0}}
    )
    harsh = with_overrides(
        h800, {"montecarlo.price_decline_annual": {"dist": "fixed", "value": 0.3}}
    )
    p_mild = run_montecarlo(mild, 3000, 5).summary()["probability_of_loss"]
    p_harsh = run_montecarlo(harsh, 3000, 5).summary()["probability_of_loss"]
    assert p_harsh > p_mild


def test_sampling_respects_distributions() -> None:
    rng = np.random.default_rng(0)
    tri = sample(Dist(dist="triangular", low=0.2, mode=0.5, high=0.9), 0.0, rng, 20000)
    assert tri.shape == (20000, 1)
    assert tri.min() >= 0.2 and tri.max() <= 0.9
    assert tri.mean() == pytest.approx((0.2 + 0.5 + 0.9) / 3, abs=0.01)
    norm = sample(Dist(dist="normal", mean=0.1, sd=0.5, low=0.0, high=0.3), 0.0, rng, 5000)
    assert norm.min() >= 0.0 and norm.max() <= 0.3
    assert np.all(sample(None, 0.42, rng, 3) == 0.42)


def test_investment_form_montecarlo() -> None:
    sc = load_bundled("compare-investment")
    s = run_montecarlo(sc, paths=2000, seed=3).summary()
    sure = with_overrides(sc, {"form.shortfall_probability": 0.0})
    s_sure = run_montecarlo(sure, paths=200, seed=3).summary()
    assert s["npv_mean"] < s_sure["npv_mean"]
    assert s_sure["npv"]["p10"] == pytest.approx(s_sure["npv"]["p90"])  # no randomness left


def test_bad_path_count() -> None:
    with pytest.raises(ValueError):
        run_montecarlo(load_bundled("h800-bare-metal-2p1m"), paths=0, seed=1)
