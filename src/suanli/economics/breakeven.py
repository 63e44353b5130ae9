"""Break-even occupancy and break-even rent, by root finding (``scipy.optimize.brentq``).

Owns the search. The criterion is ``npv`` (NPV at the scenario's discount rate = 0, the
default) or ``profit`` (net income summed over the horizon = 0, the accounting view used by
operators: "no loss"). Both are non-decreasing in occupancy and rent while rent exceeds the
extra power an occupied server draws, so a sign change on the search interval brackets the one
root. No root on the interval gives ``None`` (the scenario breaks even at no occupancy up to the
ceiling, or already at zero).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

from scipy.optimize import brentq

from suanli.economics.cashflow import CashFlows, deterministic_draws, project
from suanli.economics.plan import Plan

Criterion = Literal["npv", "profit"]


def objective(flows: CashFlows, criterion: Criterion) -> float:
    if criterion == "npv":
        return float(flows.discounted_cumulative[0, -1])
    return float(flows.net_income[0].sum())


def value_at(plan: Plan, criterion: Criterion) -> float:
    return objective(project(plan, deterministic_draws(plan)), criterion)


def _root(f: Callable[[float], float], lo: float, hi: float) -> float | None:
    f_lo, f_hi = f(lo), f(hi)
    if f_lo >= 0.0 and f_hi >= 0.0:
        return lo if f_lo == 0.0 else None
    if f_lo < 0.0 and f_hi < 0.0:
        return None
    return float(brentq(f, lo, hi, xtol=1e-10, rtol=1e-12, maxiter=200))


def breakeven_occupancy(plan: Plan, criterion: Criterion = "npv") -> float | None:
    """Steady occupancy (utilization) in [0, ceiling] at which the criterion is zero."""

    def f(level: float) -> float:
        return value_at(dataclasses.replace(plan, level=level), criterion)

    return _root(f, 0.0, plan.ceiling)


def breakeven_unit_revenue(plan: Plan, criterion: Criterion = "npv") -> float | None:
    """Revenue per server-month (as quoted, at occupancy ``plan.level``) where the criterion is
    zero. ``None`` when the level is zero or no price up to 1e3x the capex per server works."""
    if plan.level <= 0.0:
        return None

    def f(unit: float) -> float:
        return value_at(dataclasses.replace(plan, unit_revenue=unit), criterion)

    per_server = float(plan.prop.capex.sum()) / max(float(plan.active_prop.max()), 1.0)
    hi = max(plan.unit_revenue, 1.0)
    while f(hi) < 0.0:
        hi *= 2.0
        if hi > 1e3 * max(per_server, 1.0):
            return None
    return _root(f, 0.0, hi)


def breakeven_rent(plan: Plan, criterion: Criterion = "npv") -> float | None:
    """Break-even price in the form's own unit: rent per server-month (bare metal) or price
    per GPU-hour (computing center)."""
    unit = breakeven_unit_revenue(plan, criterion)
    if unit is None or plan.kind == "bare_metal":
        return unit
    return unit / (plan.gpus_per_server * plan.hours_per_month)
