"""What an order costs and what capacity earns, per scenario: the arithmetic the MILP and the
out-of-sample evaluation share.

Owns :func:`order_costs` (present value of everything an order of one server of SKU ``k`` in
month ``m`` costs, net of what it fetches at the end), :func:`plan_npv` (the NPV of a whole
plan in each scenario, additive: what the MILP optimises) and :func:`plan_value` (the NPV every
report shows). The MILP in :mod:`.model` uses the same arrays, so a plan's in-sample objective
equals ``plan_npv(...).mean()`` (tested).

With ``taxes.basis = "after_tax"`` (the default) the costs and revenue weights are the after-tax
ones of :mod:`.aftertax` with taxes taken as linear, and :func:`plan_value` is the economics
engine's exact after-tax NPV (:func:`.aftertax.engine_npv`). With ``"pre_tax"`` both are the
pre-tax arithmetic below and :func:`plan_value` is :func:`plan_npv`.

Pre-tax cash-flow conventions (VAT-exclusive; the plan's own cash flows only — capacity in
service now is sunk and serves demand first, so "buy nothing more" has NPV 0 in every scenario):

- discount factor of month ``t`` is ``(1 + discount_rate_annual) ** (-t / 12)``;
- an order in month ``m`` pays ``deposit_pct`` of the price then; it arrives in month
  ``a = m + lead_time + delay``, when the rest of the price of the delivered share is paid; the
  deposit on the undelivered share is lost;
- price in month ``m`` is ``unit_price * (1 + trend) ** (m / 12)``;
- a delivered server costs ``opex_per_month`` and sells ``capacity_units`` from ``a`` until
  ``a + useful_life_months`` or the horizon; at the end of its life it fetches ``salvage_pct`` of
  its price, at the horizon ``resale_pct_of_book`` of its straight-line book value;
- debt finances ``loan_share`` of every payment; its NPV gain is ``1 - PV(repayments)`` per unit
  borrowed (zero when the loan rate equals the discount rate);
- *loss* means the plan's NPV is below zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from suanli.economics.planning import aftertax
from suanli.economics.planning.sampling import Array, Scenarios
from suanli.economics.planning.spec import Financing, PlanningSpec


def discount(spec: PlanningSpec, months: int) -> Array:
    """Discount factors of months ``0 .. months - 1``."""
    out: Array = (1.0 + spec.discount_rate_annual) ** (-np.arange(months) / 12.0)
    return out


def financing_factor(fin: Financing, discount_rate_annual: float) -> float:
    """What one unit paid costs the equity holder once ``loan_share`` of it is borrowed."""
    if fin.loan_share == 0.0:
        return 1.0
    r = fin.rate_annual / 12.0
    n = fin.term_months
    payment = 1.0 / n if r == 0.0 else r / (1.0 - (1.0 + r) ** -n)
    months = np.arange(1, n + 1)
    pv = float(np.sum(payment * (1.0 + discount_rate_annual) ** (-months / 12.0)))
    return 1.0 - fin.loan_share * (1.0 - pv)


def arrivals(spec: PlanningSpec, sc: Scenarios) -> NDArray[np.int64]:
    """(S, K) months from order to arrival: lead time plus the scenario's delay."""
    lead = np.array([s.lead_time_months for s in spec.sku], dtype=np.int64)
    out: NDArray[np.int64] = lead[None, :] + sc.delay
    return out


def order_prices(spec: PlanningSpec, sc: Scenarios) -> Array:
    """(S, K, T) price of one server ordered in month ``m`` in each scenario."""
    m = np.arange(spec.decision_months) / 12.0
    base = np.array([s.unit_price for s in spec.sku])
    out: Array = base[None, :, None] * (1.0 + sc.price_trend[:, :, None]) ** m[None, None, :]
    return out


def planning_prices(spec: PlanningSpec, sc: Scenarios) -> Array:
    """(K, T) the budget's price: the scenarios' mean order price."""
    out: Array = order_prices(spec, sc).mean(axis=0)
    return out


def order_costs(spec: PlanningSpec, sc: Scenarios) -> Array:
    """(S, K, T) present value of ordering one server of SKU ``k`` in month ``m``, net of its
    end value (revenue excluded: it depends on the rest of the plan), on ``taxes.basis``."""
    if spec.taxes.basis == "after_tax":
        return aftertax.linear_costs(spec, sc, order_prices(spec, sc), arrivals(spec, sc))
    return pre_tax_costs(spec, sc)


def pre_tax_costs(spec: PlanningSpec, sc: Scenarios) -> Array:
    """:func:`order_costs` before tax (the conventions above)."""
    h = spec.horizon_months
    t_max = h + spec.decision_months + 240 + int(sc.delay.max(initial=0)) + 2
    disc = discount(spec, t_max)
    cum = np.concatenate([[0.0], np.cumsum(disc)])
    price = order_prices(spec, sc)
    m = np.arange(spec.decision_months)[None, None, :]
    arrive = arrivals(spec, sc)[:, :, None] + m  # (S, K, T)
    life = np.array([s.useful_life_months for s in spec.sku])[None, :, None]
    dep = np.array([s.deposit_pct for s in spec.sku])[None, :, None]
    opex = np.array([s.opex_per_month for s in spec.sku])[None, :, None]
    salvage = np.array([s.salvage_pct for s in spec.sku])[None, :, None]
    resale = np.array([s.resale_pct_of_book for s in spec.sku])[None, :, None]
    kept = 1.0 - sc.shortfall[:, :, None]
    fin = financing_factor(spec.financing, spec.discount_rate_annual)
    paid = price * (dep * disc[m] + (1.0 - dep) * kept * disc[arrive]) * fin
    end = np.where(arrive < h, np.minimum(arrive + life, h), arrive)
    running = kept * opex * (cum[end] - cum[np.minimum(arrive, end)])
    retired = arrive + life <= h
    book = 1.0 - (1.0 - salvage) * np.clip(end - arrive, 0, None) / life
    share = np.where(retired, salvage, resale * book)
    out: Array = paid + running - kept * price * share * disc[end]
    return out


def capacity(spec: PlanningSpec, sc: Scenarios, orders: Array) -> Array:
    """(S, H) new units in service each month under ``orders`` (K, T servers per month)."""
    h = spec.horizon_months
    cumulative = np.concatenate([np.zeros((orders.shape[0], 1)), np.cumsum(orders, axis=1)], 1)
    t = np.arange(h)[None, :]
    arrive = arrivals(spec, sc)
    out = np.zeros((sc.count, h))
    for k, sku in enumerate(spec.sku):
        lag = arrive[:, k : k + 1]
        # servers ordered in months <= t - lag have arrived; those <= t - lag - life retired
        came = cumulative[k, np.clip(t - lag + 1, 0, spec.decision_months)]
        gone = cumulative[k, np.clip(t - lag - sku.useful_life_months + 1, 0, spec.decision_months)]
        out += sku.capacity_units * (1.0 - sc.shortfall[:, k : k + 1]) * (came - gone)
    return out


def revenue_weights(spec: PlanningSpec) -> Array:
    """(H,) what one currency unit of rent in month ``t`` adds to NPV on ``taxes.basis``."""
    if spec.taxes.basis == "after_tax":
        return aftertax.revenue_weights(spec)
    return discount(spec, spec.horizon_months)


def monthly_revenue(sc: Scenarios, cap: Array) -> Array:
    """(S, H) what ``cap`` (S, H) new units bill each month, dearest segment first."""
    sold = np.clip(cap[:, :, None] - sc.before, 0.0, sc.width)
    out: Array = np.sum(sold * sc.rent, axis=2)
    return out


def revenue_pv(spec: PlanningSpec, sc: Scenarios, cap: Array) -> Array:
    """(S,) present value of what ``cap`` (S, H) new units earn, dearest segment first."""
    out: Array = monthly_revenue(sc, cap) @ revenue_weights(spec)
    return out


def plan_npv(spec: PlanningSpec, sc: Scenarios, orders: Array, costs: Array | None = None) -> Array:
    """(S,) NPV of ``orders`` (K, T) in each scenario."""
    unit = order_costs(spec, sc) if costs is None else costs
    spent = np.einsum("skt,kt->s", unit, orders)
    out: Array = revenue_pv(spec, sc, capacity(spec, sc, orders)) - spent
    return out


def plan_value(
    spec: PlanningSpec, sc: Scenarios, orders: Array, costs: Array | None = None
) -> Array:
    """(S,) the NPV of ``orders`` every report shows: the economics engine's exact after-tax NPV
    (``taxes.basis = "after_tax"``), else :func:`plan_npv`."""
    if spec.taxes.basis != "after_tax":
        return plan_npv(spec, sc, orders, costs)
    revenue = monthly_revenue(sc, capacity(spec, sc, orders))
    return aftertax.engine_npv(
        spec, sc, orders, order_prices(spec, sc), arrivals(spec, sc), revenue
    )
