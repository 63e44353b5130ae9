"""Purchase planning end to end: sample, solve under the limit, trace the frontier, compare the
baselines, re-evaluate everything on fresh scenarios.

Owns :func:`plan_purchase` and its result types. Phases (numbered in the code):

1. draw ``solver.scenarios`` in-sample scenarios (``solver.seed``) and ``solver.oos_scenarios``
   fresh ones (``solver.oos_seed``);
2. solve without a risk limit (the frontier's right end) and under the chosen limit;
3. solve once per frontier limit;
4. the baselines: *buy nothing more* (NPV 0 everywhere) and *buy everything now* (month 0, the
   SKU cheapest per capacity unit, enough servers to cover the largest expected demand gap of
   the horizon, within budget and supplier caps: what the article's companies did);
5. every plan is evaluated by the same :func:`~.valuation.plan_value` in sample and out of
   sample (after tax: the economics engine's cash flow, :mod:`.aftertax`); out-of-sample figures are the honest ones (in-sample figures of an SAA plan are
   optimistic: it was fitted to those scenarios).

Pure: values in, a :class:`PurchasePlan` out; ``progress(done, total)`` is the only callback.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from suanli.economics.montecarlo import cvar
from suanli.economics.planning.model import (
    Limit,
    Solution,
    budget_limit,
    solve,
    with_time_limit,
)
from suanli.economics.planning.sampling import Array, Scenarios, sample
from suanli.economics.planning.spec import PlanningSpec
from suanli.economics.planning.valuation import order_costs, plan_value, planning_prices

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Order:
    sku: str
    month: int
    count: int


@dataclass(frozen=True, slots=True)
class Figures:
    """NPV statistics of one plan over one batch of scenarios."""

    expected_npv: float
    p_loss: float
    cvar: float  # mean NPV of the worst ``cvar_alpha`` share
    npv_p10: float
    npv_p50: float
    npv_p90: float

    @staticmethod
    def of(npv: Array, alpha: float) -> Figures:
        p10, p50, p90 = np.quantile(npv, (0.1, 0.5, 0.9))
        return Figures(
            float(np.mean(npv)),
            float(np.mean(npv < 0.0)),
            cvar(npv, alpha),
            float(p10),
            float(p50),
            float(p90),
        )


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    label: str
    limit: float | None  # the risk limit it was solved under (None: no limit / a baseline)
    orders: tuple[Order, ...]
    servers: int
    capex: float  # on the planning price
    in_sample: Figures
    out_of_sample: Figures
    status: str
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "limit": self.limit,
            "orders": [{"sku": o.sku, "month": o.month, "count": o.count} for o in self.orders],
            "servers": self.servers,
            "capex": self.capex,
            "in_sample": _figures(self.in_sample),
            "out_of_sample": _figures(self.out_of_sample),
            "status": self.status,
            "seconds": round(self.seconds, 3),
        }


def _figures(f: Figures) -> dict[str, float]:
    return {
        "expected_npv": f.expected_npv,
        "p_loss": f.p_loss,
        "cvar": f.cvar,
        "npv_p10": f.npv_p10,
        "npv_p50": f.npv_p50,
        "npv_p90": f.npv_p90,
    }


@dataclass(frozen=True, slots=True)
class PurchasePlan:
    name: str
    currency: str
    decision_months: int
    measure: str
    limit: float
    cvar_alpha: float
    scenarios: int
    oos_scenarios: int
    valuation: str  # "after_tax (equity)", "after_tax (project)" or "pre_tax"
    chosen: PlanOutcome
    unconstrained: PlanOutcome
    frontier: tuple[PlanOutcome, ...]
    buy_now: PlanOutcome
    buy_nothing: PlanOutcome

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "currency": self.currency,
            "decision_months": self.decision_months,
            "risk": {"measure": self.measure, "limit": self.limit, "cvar_alpha": self.cvar_alpha},
            "scenarios": self.scenarios,
            "oos_scenarios": self.oos_scenarios,
            "valuation": self.valuation,
            "chosen": self.chosen.to_dict(),
            "unconstrained": self.unconstrained.to_dict(),
            "frontier": [p.to_dict() for p in self.frontier],
            "buy_everything_now": self.buy_now.to_dict(),
            "buy_nothing_more": self.buy_nothing.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Batch:
    """Scenarios with their order costs, computed once and shared by every plan."""

    scenarios: Scenarios
    costs: Array


def batch(spec: PlanningSpec, n: int, seed: int) -> Batch:
    sc = sample(spec, n, seed)
    return Batch(sc, order_costs(spec, sc))


def orders_of(spec: PlanningSpec, x: Array) -> tuple[Order, ...]:
    return tuple(
        Order(spec.sku[k].name, int(m), int(x[k, m]))
        for k, m in zip(*np.nonzero(x > 0.5), strict=True)
    )


def outcome(
    spec: PlanningSpec,
    label: str,
    limit: float | None,
    x: Array,
    ins: Batch,
    oos: Batch,
    status: str = "baseline",
    seconds: float = 0.0,
) -> PlanOutcome:
    """Figures of plan ``x`` (K, T servers per month) in and out of sample."""
    alpha = spec.risk.cvar_alpha
    prices = planning_prices(spec, ins.scenarios)
    return PlanOutcome(
        label,
        limit,
        orders_of(spec, x),
        round(float(x.sum())),
        float(np.sum(prices * x)),
        Figures.of(plan_value(spec, ins.scenarios, x, ins.costs), alpha),
        Figures.of(plan_value(spec, oos.scenarios, x, oos.costs), alpha),
        status,
        seconds,
    )


def buy_everything_now(spec: PlanningSpec, ins: Batch) -> Array:
    """Month 0, the SKU cheapest per capacity unit, the largest expected demand gap covered."""
    sc = ins.scenarios
    prices = planning_prices(spec, sc)
    per_unit = [prices[k, 0] / s.capacity_units for k, s in enumerate(spec.sku)]
    k = int(np.argmin(per_unit))
    sku = spec.sku[k]
    gap = float(np.max(np.mean(np.sum(sc.width, axis=2), axis=0), initial=0.0))
    kept = float(np.mean(1.0 - sc.shortfall[:, k]))
    count = math.ceil(gap / (sku.capacity_units * max(kept, 1e-3)) - 1e-9)
    budget = budget_limit(spec)
    if budget is not None:
        count = min(count, math.floor(budget / float(prices[k, 0])))
    if spec.budget.per_month is not None:
        count = min(count, math.floor(spec.budget.per_month / float(prices[k, 0])))
    if sku.max_per_month is not None:
        count = min(count, sku.max_per_month)
    x = np.zeros((len(spec.sku), spec.decision_months))
    x[k, 0] = max(count, 0)
    return x


def limit_of(spec: PlanningSpec, value: float | None = None) -> Limit:
    risk = spec.risk
    if risk.measure == "cvar":
        return Limit("cvar", risk.max_cvar_loss if value is None else value)
    return Limit("p_loss", risk.max_p_loss if value is None else value)


def limit_label(measure: str, value: float) -> str:
    if measure == "p_loss":
        return f"P(loss) <= {value:.1%}"
    return f"CVaR >= {-value / 1e6:,.1f} M"


DEFAULT_FRONTIER_POINTS = 6  # five steps from no risk to the unconstrained plan's, + the chosen


def frontier_limits(spec: PlanningSpec, free: Figures) -> list[float]:
    """The user's frontier, else five limits from none-at-all to the unconstrained plan's risk,
    plus the chosen limit."""
    risk = spec.risk
    if risk.frontier is not None:
        return sorted(set(risk.frontier))
    chosen = limit_of(spec).value
    top = free.p_loss if risk.measure == "p_loss" else max(0.0, -free.cvar)
    return sorted({round(top * f, 6) for f in (0.0, 0.25, 0.5, 0.75, 1.0)} | {chosen})


SCALE_STEPS = 10  # meet_exactly tries the plan scaled by 1, 0.9, ..., 0 (buy nothing)


def _excess(npv: Array, limit: Limit, alpha: float) -> float:
    """How far ``npv`` (per scenario) breaks ``limit``: 0 when it meets it."""
    if limit.measure == "cvar":
        return max(0.0, -cvar(npv, alpha) - limit.value)
    if limit.measure == "p_loss":
        return max(0.0, float(np.mean(npv < 0.0)) - limit.value)
    return 0.0


def meet_exactly(spec: PlanningSpec, ins: Batch, limit: Limit, sol: Solution) -> Solution:
    """After tax the MILP optimises the linear NPV (losses relieved at once) and enforces
    ``limit`` on it; the engine's exact NPV carries losses forward, so the MILP's plan can break
    the limit, or be worth less than buying nothing, on the engine's in-sample values. The plan
    is therefore polished on them: of the plan scaled by 1, 0.9, ..., 0.1, 0 (every order times
    the factor, rounded down; 0 buys nothing, which meets every limit) the one with the highest
    exact in-sample mean NPV that meets the limit is kept. Status ``heuristic`` when it is not
    the MILP's own. A numpy evaluation per factor, no further MILP."""
    if spec.taxes.basis != "after_tax":
        return sol
    alpha = spec.risk.cvar_alpha
    best: tuple[float, int, Array] | None = None
    for step in range(SCALE_STEPS + 1):
        orders = np.floor(sol.orders * (1.0 - step / SCALE_STEPS) + 1e-9)
        npv = plan_value(spec, ins.scenarios, orders, ins.costs)
        mean = float(np.mean(npv))
        if _excess(npv, limit, alpha) <= 0.0 and (best is None or mean > best[0] + 1e-6):
            best = (mean, step, orders)
    assert best is not None  # step SCALE_STEPS buys nothing: NPV 0 meets every limit
    mean, step, orders = best
    if step == 0:
        return sol
    return Solution(orders, mean, "heuristic", None, sol.seconds)


def valuation_label(spec: PlanningSpec) -> str:
    """What the NPVs are: ``after_tax (equity)`` / ``after_tax (project)`` or ``pre_tax``."""
    taxes = spec.taxes
    return "pre_tax" if taxes.basis == "pre_tax" else f"after_tax ({taxes.cash_flow})"


def time_share(limit_s: float, spent_s: float, runs_left: int) -> float:
    """The next MILP's time limit: an even share of what is left of the plan's budget (0 once it
    is spent; :func:`with_time_limit` still gives every solve its minimum)."""
    return max(limit_s - spent_s, 0.0) / max(runs_left, 1)


def plan_purchase(spec: PlanningSpec, progress: Progress | None = None) -> PurchasePlan:
    """The plan maximising expected NPV under ``spec.risk``, its frontier and the baselines."""
    solver = spec.solver
    # 1. scenarios
    ins = batch(spec, solver.scenarios, solver.seed)
    oos = batch(spec, solver.oos_scenarios, solver.oos_seed)

    # the MILPs share solver.time_limit_s: each gets an even share of what is left, so time a
    # quick solve leaves over goes to the later ones
    spent = 0.0
    given = spec.risk.frontier
    total = 2 + (len(set(given)) if given is not None else DEFAULT_FRONTIER_POINTS)

    def run(label: str, limit: Limit, index: int) -> PlanOutcome:
        nonlocal spent
        share = time_share(solver.time_limit_s, spent, total - index)
        sol: Solution = solve(with_time_limit(spec, share), ins.scenarios, ins.costs, limit)
        spent += sol.seconds
        sol = meet_exactly(spec, ins, limit, sol)
        value = None if limit.measure == "none" else limit.value
        return outcome(spec, label, value, sol.orders, ins, oos, sol.status, sol.seconds)

    # 2. unconstrained, then the chosen limit
    free = run("no risk limit", Limit("none", 0.0), 0)
    limits = frontier_limits(spec, free.in_sample)
    total = 2 + len(limits)
    if progress is not None:
        progress(1, total)
    chosen = run("chosen", limit_of(spec), 1)
    if progress is not None:
        progress(2, total)
    # 3. the frontier
    frontier = []
    for i, value in enumerate(limits):
        frontier.append(run(limit_label(spec.risk.measure, value), limit_of(spec, value), 2 + i))
        if progress is not None:
            progress(3 + i, total)
    # 4-5. the baselines
    now = outcome(spec, "buy everything now", None, buy_everything_now(spec, ins), ins, oos)
    nothing = np.zeros((len(spec.sku), spec.decision_months))
    none = outcome(spec, "buy nothing more", None, nothing, ins, oos)
    return PurchasePlan(
        spec.name,
        spec.currency,
        spec.decision_months,
        spec.risk.measure,
        limit_of(spec).value,
        spec.risk.cvar_alpha,
        solver.scenarios,
        solver.oos_scenarios,
        valuation_label(spec),
        chosen,
        free,
        tuple(frontier),
        now,
        none,
    )
