"""The twin's demand model as a purchase plan's demand forecast.

Owns :func:`twin_forecast` (the expected servers a twin scenario demands per month, by class,
and the lease demand's standard deviation),
:func:`twin_demand` (that forecast as the planner's :class:`~suanli.economics.planning.spec.
Demand`, the type a planning file's ``[demand]`` section validates to, with the spread as
``units_sd``) and :func:`with_twin_demand` (a planning spec with its demand replaced). Pure:
values in, values out; nothing is drawn here, so the same scenario gives the same demand, byte
for byte.

Vocabulary: *planning month* ``m`` (0 = the first month the plan orders in) is the twin's grid
month ``m + 1`` (the twin's first operating month, when its first requests arrive). One twin
server is one planning capacity unit.

Assumption: expected values, Little's law. Lease requests arrive at ``λ`` a month; a request
is accepted on price with ``a = P(willingness_to_pay >= asked / market)`` (the asked and the
market rent follow the same path, so ``a`` is constant); it holds ``size`` servers for a term
``T`` and renews at the end of each term with probability ``r`` (a renewal at a falling list
rent is always within its willingness to pay), so it lasts ``D = N·T`` months with ``N``
geometric, ``P(D > k) = Σ_T w_T r^⌊k/T⌋`` and ``E[D] = E[T] / (1 - r)``. Requests arriving in
months ``0..m`` that are still active in month ``m``:

    L(m) = λ · a · E[size] · Σ_{k=0..m} P(D > k)   →   λ · a · E[size] · E[D]   (steady state)

— the ramp from an empty book at month 0 to Little's law. The twin draws arrivals from a
Poisson law (the active leases of an M/G/∞ book are Poisson, variance ``λ · a · E[size²] ·
Σ P(D > k)`` in servers). That spread reaches the planner's scenarios as a fitted distribution:
each ramp block carries ``units_sd`` (the rise of the standard deviation since the previous
block) and the planner scales all blocks by one standard normal per scenario, so in each block's
start month the lease demand has the twin's mean and standard deviation (normal approximation,
clipped at zero per block). One factor for the whole horizon is the slow part of the spread (a
lease lasts E[D] months, so the book's deviations persist); month-to-month noise is not
modelled. Capacity limits are ignored (demand is what would be signed with servers free).

Encoding. The planner's pool term is ``base_units · exp(growth · t / 12)`` at a market rent
falling by ``price_decline_annual``; its pipeline leases are fixed blocks at a fixed rent.
* the twin's cloud pool → the pool term: ``servers × load`` busy servers, growth
  ``ln(1 + load_growth_annual)``, rent = a busy server-month of GPU-hours at the blended
  (standard/spot) price net of VAT, no decline;
* the lease ramp → at most :data:`MAX_STEPS` blocks (the ramp rounded to steps of 1/MAX_STEPS of
  its final value, each block from its month to the horizon) — few blocks keep the LP small —
  at the mean net list rent over the block's months (the twin's expected price path: a random
  path's mean is its drift), so a block earns what the declining rent would earn in total;
* booked leases → one block each at their net rent (default: the list rent at start);
* inference → one block over the horizon: the peak hour's provisioned nodes, at the day's
  token revenue (net of VAT, in the scenario's currency) per peak node, 365/12 days a month,
  with the token price decline averaged over the horizon. Its demand growth is ignored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from suanli.economics.montecarlo import quantile
from suanli.economics.planning.spec import Demand, Lease, PlanningSpec
from suanli.economics.scenario import Dist
from suanli.simulation.twin.inference import day_figures, hourly_need, provision
from suanli.simulation.twin.leasebook import list_factor
from suanli.simulation.twin.scenario import Choice, Leases, TwinScenario

Array = NDArray[np.float64]

MAX_STEPS = 12  # blocks of the lease ramp: the LP has one column per (scenario, month, block)
_GRID = 10_000  # midpoints for P(willingness_to_pay >= ratio)
_DAYS_PER_MONTH = 365.0 / 12.0


@dataclass(frozen=True, slots=True)
class TwinForecast:
    """Expected servers demanded per planning month (length ``horizon``), by class."""

    leases: Array  # the random lease requests' ramp L(m)
    leases_sd: Array  # its standard deviation (Poisson arrivals), the ramp blocks' units_sd
    booked: Array
    pool: Array
    inference: Array
    acceptance: float  # share of requests accepted on price
    steady_state: float  # λ · a · E[size] · E[D]

    @property
    def total(self) -> Array:
        out: Array = self.leases + self.booked + self.pool + self.inference
        return out


def _mean(choice: Choice, power: int = 1) -> float:
    w = np.asarray(choice.weights, dtype=np.float64)
    v = np.asarray(choice.values, dtype=np.float64)
    return float(np.sum(w * v**power) / np.sum(w))


def acceptance(dist: Dist, ratio: float) -> float:
    """``P(willingness_to_pay >= ratio)`` on a midpoint grid of the inverse CDF."""
    u = (np.arange(_GRID, dtype=np.float64) + 0.5) / _GRID
    return float(np.mean(np.maximum(quantile(dist, 1.0, u), 0.0) >= ratio - 1e-12))


def survival(leases: Leases, months: int) -> Array:
    """``P(D > k)`` for ``k = 0..months-1``: a lease's total length with renewals."""
    k = np.arange(months, dtype=np.float64)
    w = np.asarray(leases.terms.weights, dtype=np.float64)
    w = w / w.sum()
    r = leases.renewal_probability
    out = np.zeros(months)
    for weight, term in zip(w, leases.terms.values, strict=True):
        out += weight * r ** np.floor(k / term)  # 0.0 ** 0 == 1: the first term always runs
    return out


def lease_ramp(sc: TwinScenario, months: int) -> tuple[Array, Array, float, float]:
    """``(L, sd, a, steady)``: the expected servers leased per month, the Poisson standard
    deviation, the price acceptance and Little's-law steady state."""
    spec = sc.twin.leases
    ratio = sc.quoted_rent / sc.market_rent if sc.market_rent > 0 else 1.0
    a = acceptance(spec.willingness_to_pay, ratio)
    rate = spec.arrival_rate_per_month * a
    cum = np.cumsum(survival(spec, months))
    r = spec.renewal_probability
    mean_d = _mean(spec.terms) / (1.0 - r) if r < 1 else math.inf  # r = 1: leases never end
    level: Array = rate * _mean(spec.sizes) * cum
    sd: Array = np.sqrt(rate * _mean(spec.sizes, 2) * cum)
    steady = rate * _mean(spec.sizes) * mean_d if rate > 0 else 0.0
    return level, sd, a, steady


def _booked(sc: TwinScenario, months: int) -> Array:
    out = np.zeros(months)
    for b in sc.twin.book:
        m = b.start_month - 1
        out[m : m + b.term_months] += b.servers
    return out


def _pool(sc: TwinScenario, months: int) -> Array:
    pool = sc.twin.pool
    t = np.arange(months, dtype=np.float64)
    out: Array = pool.servers * pool.load * (1.0 + pool.load_growth_annual) ** (t / 12.0)
    return out


def _inference_nodes(sc: TwinScenario) -> int:
    spec = sc.twin.inference
    if spec.servers == 0 and spec.input_tokens_per_day == 0 and spec.output_tokens_per_day == 0:
        return 0
    need = hourly_need(spec, 1.0)
    return max(provision(spec, need, 10**9), default=0)


def twin_forecast(sc: TwinScenario, horizon_months: int) -> TwinForecast:
    """The expected monthly demand of ``sc`` over planning months ``0..horizon_months-1``."""
    level, sd, a, steady = lease_ramp(sc, horizon_months)
    inference = np.full(horizon_months, float(_inference_nodes(sc)))
    return TwinForecast(
        level, sd, _booked(sc, horizon_months), _pool(sc, horizon_months), inference, a, steady
    )


def _net(sc: TwinScenario, quoted: float, vat: float) -> float:
    include = sc.economics.taxes.prices_include_vat
    return quoted / (1.0 + vat) if include else quoted


def _factor(sc: TwinScenario, months: int) -> Array:
    """The expected list-rent factor per planning month (twin months 1..months)."""
    prices = sc.twin.prices
    if prices.path == "random":  # its steps have mean 1: the expected path is the drift
        prices = prices.model_copy(update={"path": "decline"})
    out: Array = list_factor(prices, months, np.random.default_rng(0))[1:]
    return out


def steps(level: Array, count: int = MAX_STEPS) -> list[tuple[int, float]]:
    """``(start_month, units)`` blocks whose sum from each start approximates the nondecreasing
    ``level`` by rounding it to multiples of ``max(level) / count``."""
    top = float(np.max(level, initial=0.0))
    if top <= 0:
        return []
    unit = top / count
    stepped = np.floor(level / unit + 0.5) * unit
    rises = np.diff(np.concatenate(([0.0], stepped)))
    return [(int(m), float(rises[m])) for m in np.flatnonzero(rises > 1e-9)]


def spreads(sd: Array, starts: list[int]) -> list[float]:
    """Each block's ``units_sd``: the rise of the twin's standard deviation ``sd`` since the
    previous block. The planner scales every block by one common normal per scenario, so the
    blocks in force in a block's start month add up to exactly ``sd`` of that month."""
    out: list[float] = []
    before = 0.0
    for m in starts:
        out.append(max(float(sd[m]) - before, 0.0))
        before = max(before, float(sd[m]))
    return out


def _pool_rent(sc: TwinScenario) -> float:
    pool = sc.twin.pool
    price = (1 - pool.spot_share) * pool.standard_per_gpu_hour
    price += pool.spot_share * pool.spot_per_gpu_hour
    return _net(sc, price, pool.vat_rate) * pool.gpus_per_server * 24.0 * _DAYS_PER_MONTH


def _inference_rent(sc: TwinScenario, nodes: int, months: int) -> float:
    spec = sc.twin.inference
    day = float(day_figures(spec, nodes).theoretical_revenue) * spec.fx_rate
    t = np.arange(1, months + 1, dtype=np.float64)
    decline = float(np.mean((1.0 - spec.price_decline_annual) ** (t / 12.0)))
    return _net(sc, day, spec.vat_rate) * _DAYS_PER_MONTH / nodes * decline


def twin_demand(sc: TwinScenario, horizon_months: int) -> Demand:
    """``sc``'s expected demand as the planner's ``[demand]`` section (see the module)."""
    h = horizon_months
    forecast = twin_forecast(sc, h)
    vat = sc.economics.taxes.vat_rate
    list_rent = _net(sc, sc.quoted_rent, vat) * _factor(sc, h)
    blocks = steps(forecast.leases)
    spread = spreads(forecast.leases_sd, [m for m, _ in blocks])
    pipeline = [
        Lease(
            customer=f"twin ramp from month {m}",
            units=units,
            units_sd=sd,
            start_month=m,
            term_months=h - m,
            probability=1.0,
            rent_per_unit_month=float(np.mean(list_rent[m:])),
        )
        for (m, units), sd in zip(blocks, spread, strict=True)
    ]
    for i, b in enumerate(sc.twin.book):
        m = b.start_month - 1
        if m >= h:
            continue
        quoted = b.rent_per_server_month
        rent = float(list_rent[m]) if quoted is None else _net(sc, quoted, vat)
        term = min(b.term_months, h - m)
        name = b.customer or f"twin booked lease {i}"
        pipeline.append(
            Lease(
                customer=name,
                units=b.servers,
                start_month=m,
                term_months=term,
                probability=1.0,
                rent_per_unit_month=rent,
            )
        )
    nodes = _inference_nodes(sc)
    if nodes > 0:
        rent = _inference_rent(sc, nodes, h)
        pipeline.append(
            Lease(
                customer="twin inference",
                units=nodes,
                start_month=0,
                term_months=h,
                probability=1.0,
                rent_per_unit_month=rent,
            )
        )
    pool = sc.twin.pool
    return Demand(
        base_units=pool.servers * pool.load,
        growth_annual=Dist(dist="fixed", value=math.log1p(pool.load_growth_annual)),
        rent_per_unit_month=_pool_rent(sc) if pool.servers else 0.0,
        price_decline_annual=Dist(dist="fixed", value=0.0),
        pipeline=pipeline,
    )


def with_twin_demand(spec: PlanningSpec, sc: TwinScenario) -> PlanningSpec:
    """``spec`` with its ``[demand]`` section replaced by ``sc``'s expected demand."""
    note = (
        f"Demand from the twin {sc.name!r}: expected values (Little's law) with the lease "
        "requests' Poisson spread as one common factor per scenario."
    )
    return spec.model_copy(
        update={
            "demand": twin_demand(sc, spec.horizon_months),
            "assumptions": [*spec.assumptions, note],
        }
    )
