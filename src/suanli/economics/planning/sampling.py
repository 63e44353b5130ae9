"""Seeded scenarios of demand, rents and supplier delivery for purchase planning.

Owns the draw of one :class:`Scenarios` batch from a :class:`~.spec.PlanningSpec`. A scenario is
one possible future: the pool's demand growth and price decline (Gaussian copula, correlation
``demand.growth_price_correlation``), which pipeline leases are won, per SKU the supplier's
delay (whole months), shortfall share and price trend, and (when a lease has ``units_sd``) one
common demand factor scaling the leases' units.

Demand reaches the planner as *segments*: for each scenario and month, the demand classes (each
won lease at its contracted rent, the pool at the market rent) are sorted by rent, highest
first, and the capacity in service now (``existing_units``) is taken off the top. New capacity
``c`` then earns ``sum_j rent_j * clip(c - before_j, 0, width_j)``: concave in ``c``, which is
what lets a linear program sell it (an LP fills the dearest segment first).

Determinism: everything is drawn from ``numpy.random.default_rng(seed)`` in a fixed order; the
same spec and seed give the same arrays, byte for byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtr

from suanli.economics.montecarlo import quantile
from suanli.economics.planning.spec import PlanningSpec
from suanli.economics.scenario import Dist

Array = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Scenarios:
    """``S`` scenarios over ``H`` months with ``J`` demand segments and ``K`` SKUs."""

    seed: int
    rent: Array  # (S, H, J) rent per unit-month of each segment, descending along J
    width: Array  # (S, H, J) units of each segment left after the existing capacity
    delay: NDArray[np.int64]  # (S, K) whole months beyond the lead time
    shortfall: Array  # (S, K) share of each order never delivered
    price_trend: Array  # (S, K) annual price change of each SKU

    @property
    def count(self) -> int:
        return int(self.rent.shape[0])

    @property
    def before(self) -> Array:
        """(S, H, J) new units that must be sold before segment ``j`` starts filling."""
        out: Array = np.cumsum(self.width, axis=2) - self.width
        return out


def _draw(values: Dist | list[float], rng: np.random.Generator, n: int) -> Array:
    if isinstance(values, list):
        if not values:
            return np.zeros(n)
        picked: Array = rng.choice(np.asarray(values, dtype=np.float64), size=n)
        return picked
    return quantile(values, 0.0, rng.random(n))


def sample(spec: PlanningSpec, n: int, seed: int) -> Scenarios:
    """``n`` scenarios drawn from ``spec`` with ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    h = spec.horizon_months
    t = np.arange(h, dtype=np.float64)[None, :] / 12.0
    demand = spec.demand
    rho = demand.growth_price_correlation
    z1 = rng.standard_normal(n)
    z2 = rho * z1 + np.sqrt(1.0 - rho * rho) * rng.standard_normal(n)
    growth = quantile(demand.growth_annual, 0.0, ndtr(z1))[:, None]
    decline = np.clip(quantile(demand.price_decline_annual, 0.0, 1.0 - ndtr(z2)), -1.0, 0.99)
    pool = demand.base_units * np.exp(growth * t)
    market = demand.rent_per_unit_month * (1.0 - decline[:, None]) ** t
    won = [rng.random(n) < lease.probability for lease in demand.pipeline]
    k = len(spec.sku)
    delay = np.zeros((n, k), dtype=np.int64)
    shortfall = np.zeros((n, k))
    trend = np.zeros((n, k))
    for i, sku in enumerate(spec.sku):
        delay[:, i] = np.rint(np.clip(_draw(sku.delivery.delay_months, rng, n), 0.0, 120.0))
        shortfall[:, i] = np.clip(_draw(sku.delivery.shortfall, rng, n), 0.0, 1.0)
        trend[:, i] = np.clip(quantile(sku.price_trend_annual, 0.0, rng.random(n)), -0.99, 10.0)
    # the common demand factor is drawn last, and only when a lease has a spread: files
    # without one draw the same stream as before it existed
    spread = any(lease.units_sd > 0.0 for lease in demand.pipeline)
    z = rng.standard_normal(n) if spread else np.zeros(n)
    rents = [market]
    units = [pool]
    months = np.arange(h)
    for lease, w in zip(demand.pipeline, won, strict=True):
        active = (months >= lease.start_month) & (months < lease.start_month + lease.term_months)
        size = np.maximum(lease.units + z * lease.units_sd, 0.0)
        units.append(size[:, None] * (w[:, None] & active[None, :]))
        rents.append(np.full((n, h), lease.rent_per_unit_month))
    rent = np.stack(rents, axis=2)
    width = np.stack(units, axis=2).astype(np.float64)
    order = np.argsort(-rent, axis=2, kind="stable")
    rent = np.take_along_axis(rent, order, axis=2)
    width = np.take_along_axis(width, order, axis=2)
    cum = np.cumsum(width, axis=2)
    left = np.clip(cum - np.maximum(cum - width, spec.existing_units), 0.0, None)
    return Scenarios(seed, rent, left, delay, shortfall, trend)
