"""Supplier delivery risk in the Monte Carlo: late batches, the deposit lost on a shortfall and
the replacement bought later at a higher price.

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

- **replacement**: ``replacement_share`` of the undelivered servers is bought again at
  ``replacement_price_factor`` times the price, arriving ``replacement_lead_months`` after the
  (late) original batch. The replacement batch is resolved as its own plan (its capex, loan,
  depreciation and input VAT at the higher price) and each path's capex-linear lines are
  ``original x delivered + replacement x (shortfall x replacement_share)``, projected with
  the same :func:`~suanli.economics.cashflow.project_cash` (every line it computes is
  elementwise, so per-path lines broadcast like per-path draws).

- **ramp per batch** (``form.ramp_per_batch``, default on): a late batch ramps from its own
  (late) delivery and the replacement batch from its arrival; the mixed plan's occupancy is the
  active-weighted mean of the original and replacement ramps, per path.
The delay is drawn after every other input, so scenarios without these settings draw the same
streams as before (same seed, same numbers).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from suanli.economics.cashflow import Draws, project_cash
from suanli.economics.loader import with_overrides
from suanli.economics.plan import Array, CapexSeries, Plan, build_plan
from suanli.economics.scenario import MonteCarloSpec, Scenario


def delayed(scenario: Scenario, months: int) -> Scenario:
    """``scenario`` with every delivery ``months`` later (capped at the last month)."""
    fleet = scenario.fleet
    assert fleet is not None
    last = scenario.horizon_months - 1
    schedule = [{"month": min(d.month + months, last), "count": d.count} for d in fleet.schedule()]
    return with_overrides(scenario, {"fleet.delivery": schedule})


def replacement(scenario: Scenario, spec: MonteCarloSpec, months: int) -> Scenario:
    """The replacement batch: the whole fleet at the replacement price, arriving
    ``replacement_lead_months`` after the original batches delayed by ``months``."""
    fleet = scenario.fleet
    assert fleet is not None
    late = delayed(scenario, months + spec.replacement_lead_months)
    return with_overrides(
        late, {"fleet.unit_price": fleet.unit_price * spec.replacement_price_factor}
    )


def _mixed(original: Plan, repl: Plan, kept: Array, bought: Array) -> Plan:
    """A plan whose capex-linear lines are per path: ``original x kept + repl x bought``."""
    a, b = original.prop, repl.prop
    prop = CapexSeries(
        *(
            getattr(a, name) * kept + getattr(b, name) * bought
            for name in CapexSeries.__dataclass_fields__
        )
    )
    active = original.active_prop * kept + repl.active_prop * bought
    ramp_a, ramp_b = original.ramp_a, original.ramp_b
    if not (np.array_equal(ramp_a, repl.ramp_a) and np.array_equal(ramp_b, repl.ramp_b)):
        # per-batch ramps: the mix's occupancy is the active-weighted mean of the two ramps
        w_orig = original.active_prop * kept
        w_repl = repl.active_prop * bought
        safe = np.where(active > 0, active, 1.0)
        ramp_a = np.where(active > 0, (w_orig * ramp_a + w_repl * repl.ramp_a) / safe, ramp_a)
        ramp_b = np.where(active > 0, (w_orig * ramp_b + w_repl * repl.ramp_b) / safe, ramp_b)
    return replace(
        original,
        prop=prop,
        active_prop=active,
        ramp_a=ramp_a,
        ramp_b=ramp_b,
        tax_differs=original.tax_differs or repl.tax_differs,
    )


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
        group = _subset(draws, idx, n)
        plan = plans[key]
        if spec.replacement_share > 0.0:
            if -1 - key not in plans:  # replacement plans are cached under negative keys
                plans[-1 - key] = build_plan(replacement(scenario, spec, key))
            kept = np.broadcast_to(group.delivered, (idx.size, 1))
            bought = (1.0 - kept) * spec.replacement_share
            plan = _mixed(plan, plans[-1 - key], kept, bought)
            group = replace(group, delivered=np.ones((idx.size, 1)))
        f, ni = project_cash(plan, group)
        fcf[idx] = f
        income[idx] = ni
    if spec.deposit_pct > 0.0:
        assert scenario.fleet is not None
        ordered = scenario.fleet.unit_price * scenario.fleet.count
        lost = spec.deposit_pct * ordered * (1.0 - np.broadcast_to(draws.delivered, (n, 1))[:, 0])
        fcf[:, 0] -= lost
        income[:, 0] -= lost
    return fcf, income
