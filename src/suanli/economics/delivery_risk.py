"""Supplier delivery risk in the Monte Carlo: late batches and the deposit lost on a shortfall.

Owns :func:`project_with_delivery_risk`, the cash flows of one chunk of paths when the
scenario's ``montecarlo`` section sets ``delivery_delay_months`` or ``deposit_pct``:

- **delay**: each path draws a whole number of months ``d`` (rounded, >= 0); every batch of the
  delivery schedule arrives ``d`` months late (capped at the horizon's last month). Loan draws,
  depreciation, tax eligibility and retirement follow the shifted schedule because each delay
  value is resolved by :func:`~suanli.economics.plan.build_plan` once per run (cached), and the
  paths sharing a delay are projected together by the same vectorised
  :func:`~suanli.economics.cashflow.project_cash`;
- **deposit at risk**: ``deposit_pct`` of the fleet's price is paid at order; the deposit on the
  undelivered share (``delivery_shortfall``) is lost in month 0, a cash outflow and an expense
  not deducted for income tax (conservative: whether the write-off is deductible depends on
  the contract and the tax bureau).

Not modelled here: a replacement bought later at a higher price and a ramp restarting per
batch (the purchase planner, docs/economics.md "Purchase planning", prices late purchases).
The delay is drawn after every other input, so scenarios without these settings draw the same
streams as before (same seed, same numbers).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from suanli.economics.cashflow import Draws, project_cash
from suanli.economics.loader import with_overrides
from suanli.economics.plan import Array, Plan, build_plan
from suanli.economics.scenario import MonteCarloSpec, Scenario


def delayed(scenario: Scenario, months: int) -> Scenario:
    """``scenario`` with every delivery ``months`` later (capped at the last month)."""
    fleet = scenario.fleet
    assert fleet is not None
    last = scenario.horizon_months - 1
    schedule = [{"month": min(d.month + months, last), "count": d.count} for d in fleet.schedule()]
    return with_overrides(scenario, {"fleet.delivery": schedule})


def _subset(draws: Draws, idx: NDArray[np.intp], n: int) -> Draws:
    def pick(x: Array) -> Array:
        return x[idx] if x.shape[0] == n else x

    return Draws(
        level=pick(draws.level),
        price_factor=pick(draws.price_factor),
        delivered=pick(draws.delivered),
        bad_debt_pct=pick(draws.bad_debt_pct),
    )


def project_with_delivery_risk(
    scenario: Scenario,
    spec: MonteCarloSpec,
    draws: Draws,
    delay_draws: Array,
    plans: dict[int, Plan],
) -> tuple[Array, Array]:
    """(fcf, net income), each ``(paths, H + 1)``, with each path's delay (months, ``(paths,)``
    or ``(paths, 1)``) and lost deposits; ``plans`` caches the resolved plan of each delay (pass
    the same dict for every chunk)."""
    n = draws.paths
    raw = np.broadcast_to(np.asarray(delay_draws, dtype=np.float64).reshape(-1), (n,))
    delay = np.rint(np.clip(raw, 0.0, scenario.horizon_months)).astype(np.int64)
    fcf = np.empty((n, scenario.horizon_months + 1))
    income = np.empty_like(fcf)
    for d in np.unique(delay):
        key = int(d)
        if key not in plans:
            plans[key] = build_plan(delayed(scenario, key) if key else scenario)
        idx = np.nonzero(delay == d)[0]
        f, ni = project_cash(plans[key], _subset(draws, idx, n))
        fcf[idx] = f
        income[idx] = ni
    if spec.deposit_pct > 0.0:
        assert scenario.fleet is not None
        ordered = scenario.fleet.unit_price * scenario.fleet.count
        lost = spec.deposit_pct * ordered * (1.0 - np.broadcast_to(draws.delivered, (n, 1))[:, 0])
        fcf[:, 0] -= lost
        income[:, 0] -= lost
    return fcf, income
