"""Monte Carlo over the uncertain inputs, vectorised over paths and chunked to bound memory.

Owns sampling of :class:`~suanli.economics.scenario.MonteCarloSpec` distributions and the
summary statistics. Each chunk of paths is one call of the same vectorised
:func:`~suanli.economics.cashflow.project` the deterministic engine uses, so a spec with only
``fixed`` distributions reproduces the deterministic result on every path.

The hot path is :func:`~suanli.economics.cashflow.project_cash`, the same cash flows as
``project`` with the lines linear in the delivered share folded together (tested equal).

Determinism: chunk ``i`` draws from ``numpy.random.default_rng([seed, i])``; the same seed,
path count and chunk size give the same numbers, byte for byte.

Per path: occupancy level, annual price decline, delivery shortfall (share of the schedule
never delivered) and bad-debt share are scalars; price shocks arrive each month with
probability ``price_shock_probability_annual / 12`` and each multiplies the price by
``1 + size`` (one size per path). *Loss* means net income summed over the horizon below zero.
With ``delivery_delay_months`` or ``deposit_pct`` set, each path also draws a delay (after every
other input) and :mod:`~suanli.economics.delivery_risk` projects it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr, ndtri

from suanli.economics.cashflow import (
    Draws,
    discounted_cumulative,
    market_price,
    project_cash,
    project_investment,
)
from suanli.economics.delivery_risk import project_with_delivery_risk
from suanli.economics.metrics import payback
from suanli.economics.plan import Array, InvestmentPlan, Plan, build_investment_plan, build_plan
from suanli.economics.scenario import Dist, Investment, MonteCarloSpec, Scenario

DEFAULT_CHUNK = 1024  # ~1 MB per (chunk x 121 months) array: stays in cache
FAN_PATHS = 2000
QUANTILES = (0.1, 0.5, 0.9)
Progress = Callable[[int, int], None]


def quantile(dist: Dist | None, default: float, u: Array) -> Array:
    """Inverse CDF of ``dist`` at uniforms ``u`` (the copula's marginal transform)."""
    if dist is None:
        return np.full(u.shape, default)
    if dist.dist == "fixed":
        assert dist.value is not None
        return np.full(u.shape, dist.value)
    if dist.dist == "uniform":
        assert dist.low is not None and dist.high is not None
        out: Array = dist.low + u * (dist.high - dist.low)
        return out
    if dist.dist == "triangular":
        a, c, b = dist.low, dist.mode, dist.high
        assert a is not None and c is not None and b is not None
        if a == b:
            return np.full(u.shape, a)
        split = (c - a) / (b - a)
        left = a + np.sqrt(u * (b - a) * (c - a))
        right = b - np.sqrt((1.0 - u) * (b - a) * (b - c))
        tri: Array = np.where(u < split, left, right)
        return tri
    assert dist.mean is not None and dist.sd is not None
    normal: Array = dist.mean + dist.sd * ndtri(np.clip(u, 1e-12, 1.0 - 1e-12))
    if dist.low is not None or dist.high is not None:
        normal = np.clip(normal, dist.low, dist.high).astype(np.float64)
    return normal


def correlated_level_and_decline(
    spec: MonteCarloSpec, level: float, decline: float, rng: np.random.Generator, n: int
) -> tuple[Array, Array]:
    """Occupancy level and annual price decline, ``(n, 1)`` each, joined by a Gaussian copula:
    normals ``z1``, ``z2 = rho z1 + sqrt(1 - rho^2) e``; occupancy = F_occ^-1(Phi(z1)),
    price level rank = Phi(z2), so decline = F_dec^-1(1 - Phi(z2))."""
    rho = spec.price_occupancy_correlation
    z1 = rng.standard_normal((n, 1))
    z2 = rho * z1 + np.sqrt(1.0 - rho * rho) * rng.standard_normal((n, 1))
    occ = quantile(spec.occupancy, level, ndtr(z1))
    dec = quantile(spec.price_decline_annual, decline, 1.0 - ndtr(z2))
    return occ, dec


def sample(dist: Dist | None, default: float, rng: np.random.Generator, n: int) -> Array:
    """``n`` draws of ``dist`` as a column ``(n, 1)``; ``default`` when no distribution."""
    if dist is None:
        return np.full((n, 1), default)
    if dist.dist == "fixed":
        assert dist.value is not None
        out = np.full(n, dist.value)
    elif dist.dist == "uniform":
        out = rng.uniform(dist.low, dist.high, n)  # type: ignore[arg-type]
    elif dist.dist == "triangular":
        assert dist.low is not None and dist.mode is not None and dist.high is not None
        out = (
            np.full(n, dist.low)
            if dist.low == dist.high
            else rng.triangular(dist.low, dist.mode, dist.high, n)
        )
    else:
        out = rng.normal(dist.mean, dist.sd, n)  # type: ignore[arg-type]
        if dist.low is not None or dist.high is not None:
            out = np.clip(out, dist.low, dist.high).astype(np.float64)
    return out.reshape(n, 1)


@dataclass(frozen=True, slots=True)
class MonteCarloResult:
    paths: int
    seed: int
    chunk_size: int
    currency: str
    npv: NDArray[np.float64]
    static_payback: NDArray[np.float64]  # NaN = never within the horizon
    dynamic_payback: NDArray[np.float64]
    net_income: NDArray[np.float64]  # summed over the horizon
    fan_months: NDArray[np.float64]
    fan: dict[str, NDArray[np.float64]]  # P10/P50/P90 of cumulative FCF per month

    def summary(self) -> dict[str, Any]:
        def q(x: NDArray[np.float64]) -> dict[str, float | None]:
            xs = np.where(np.isnan(x), np.inf, x)
            vals = np.quantile(xs, QUANTILES, method="inverted_cdf")
            return {
                f"p{round(p * 100)}": (float(v) if np.isfinite(v) else None)
                for p, v in zip(QUANTILES, vals, strict=True)
            }

        return {
            "paths": self.paths,
            "seed": self.seed,
            "chunk_size": self.chunk_size,
            "currency": self.currency,
            "probability_of_loss": float(np.mean(self.net_income < 0.0)),
            "probability_npv_negative": float(np.mean(self.npv < 0.0)),
            "npv_mean": float(np.mean(self.npv)),
            "npv": q(self.npv),
            "static_payback_months": q(self.static_payback),
            "dynamic_payback_months": q(self.dynamic_payback),
            "share_never_paying_back": float(np.mean(np.isnan(self.static_payback))),
            "npv_cvar_5": cvar(self.npv, 0.05),
            "static_payback_distribution": payback_distribution(self.static_payback),
        }


def cvar(x: NDArray[np.float64], alpha: float) -> float:
    """Conditional value at risk: the mean of the worst ``alpha`` share of ``x`` (at least one
    value; the lowest ``ceil(alpha n)``)."""
    k = max(1, int(np.ceil(alpha * x.size)))
    return float(np.mean(np.partition(x, k - 1)[:k]))


def payback_distribution(months: NDArray[np.float64]) -> dict[str, float]:
    """Share of paths paying back in each year of the horizon (``year_1`` = months (0, 12]),
    and ``never``; the shares add up to 1."""
    never = np.isnan(months)
    years = np.ceil(np.where(never, 0.0, months) / 12.0).astype(int)
    out: dict[str, float] = {}
    last = int(years.max()) if (~never).any() else 0
    for y in range(1, last + 1):
        out[f"year_{y}"] = float(np.mean((years == y) & ~never))
    out["never"] = float(np.mean(never))
    return out


def _operating_chunk(plan: Plan, spec: MonteCarloSpec, rng: np.random.Generator, n: int) -> Draws:
    if spec.price_occupancy_correlation != 0.0:
        occ, dec = correlated_level_and_decline(spec, plan.level, plan.price_decline_annual, rng, n)
    else:  # independent draws, in the stream order of earlier releases (same seeds, same numbers)
        occ = sample(spec.occupancy, plan.level, rng, n)
        dec = sample(spec.price_decline_annual, plan.price_decline_annual, rng, n)
    level = np.clip(occ, 0.0, plan.ceiling)
    decline = np.clip(dec, -1.0, 0.99)
    shortfall = sample(spec.delivery_shortfall, 1.0 - plan.delivered_fraction, rng, n)
    bad_debt = np.clip(sample(spec.bad_debt_pct, plan.bad_debt_pct, rng, n), 0.0, 1.0)
    price = market_price(plan, decline)
    if spec.price_shock_probability_annual > 0.0:
        hits = rng.random(price.shape) < spec.price_shock_probability_annual / 12.0
        hits[:, 0] = False
        size = np.clip(sample(spec.price_shock_size, 0.0, rng, n), -0.99, 10.0)
        price = price * np.exp(np.cumsum(hits, axis=1) * np.log1p(size))
    return Draws(
        level=level,
        price_factor=price,
        delivered=1.0 - np.clip(shortfall, 0.0, 1.0),
        bad_debt_pct=bad_debt,
    )


def _investment_shortfall(plan: InvestmentPlan, rng: np.random.Generator, n: int) -> Array:
    years = max(1, plan.months // 12)
    form = plan.form
    hit = rng.random((n, years)) < form.shortfall_probability
    out: Array = np.where(hit, form.shortfall_pct, 0.0)
    return out


def run_montecarlo(
    scenario: Scenario,
    paths: int,
    seed: int,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> MonteCarloResult:
    """Simulate ``paths`` futures of ``scenario`` under its ``montecarlo`` spec."""
    if paths < 1 or chunk_size < 1:
        raise ValueError("paths and chunk_size must be >= 1")
    spec = scenario.montecarlo or MonteCarloSpec()
    investment = isinstance(scenario.form, Investment)
    iplan = build_investment_plan(scenario) if investment else None
    oplan = None if investment else build_plan(scenario)
    npv = np.empty(paths)
    static = np.empty(paths)
    dynamic = np.empty(paths)
    income = np.empty(paths)
    fan_rows: list[Array] = []
    delivery_risk = (
        spec.delivery_delay_months is not None
        or spec.deposit_pct > 0.0
        or spec.replacement_share > 0.0
    )
    delay_plans: dict[int, Plan] = {}
    done = 0
    chunk = 0
    while done < paths:
        n = min(chunk_size, paths - done)
        rng = np.random.default_rng([seed, chunk])
        if iplan is not None:
            flows = project_investment(iplan, _investment_shortfall(iplan, rng, n))
            fcf, net_income = flows.fcf, flows.net_income
            monthly = iplan.discount_monthly
        else:
            assert oplan is not None
            draws = _operating_chunk(oplan, spec, rng, n)
            if delivery_risk:  # drawn last: other inputs keep their streams
                delay = sample(spec.delivery_delay_months, 0.0, rng, n)
                delay_plans.setdefault(0, oplan)
                fcf, net_income = project_with_delivery_risk(
                    scenario, spec, draws, delay, delay_plans
                )
            else:
                fcf, net_income = project_cash(oplan, draws)
            monthly = oplan.discount_monthly
        cumulative = np.cumsum(fcf, axis=1)
        discounted = discounted_cumulative(fcf, monthly)
        sl = slice(done, done + n)
        npv[sl] = discounted[:, -1]
        static[sl] = payback(cumulative)
        dynamic[sl] = payback(discounted)
        income[sl] = net_income.sum(axis=1)
        if done < FAN_PATHS:
            fan_rows.append(cumulative[: FAN_PATHS - done].copy())
        done += n
        chunk += 1
        if progress is not None:
            progress(done, paths)
    cum = np.concatenate(fan_rows, axis=0)
    fan_q = np.quantile(cum, QUANTILES, axis=0)
    return MonteCarloResult(
        paths=paths,
        seed=seed,
        chunk_size=chunk_size,
        currency=scenario.currency,
        npv=npv,
        static_payback=static,
        dynamic_payback=dynamic,
        net_income=income,
        fan_months=np.arange(cum.shape[1], dtype=np.float64),
        fan={f"p{round(p * 100)}": fan_q[i] for i, p in enumerate(QUANTILES)},
    )
