"""The sample-average MILP: which SKU, how many, in which month, under a risk limit.

Owns building and solving one mixed-integer program with ``scipy.optimize.milp`` (HiGHS) over a
batch of :class:`~.sampling.Scenarios`. Vocabulary and columns:

- ``X[k, m]`` (integer): servers of SKU ``k`` ordered in months ``0 .. m`` (cumulative, so the
  capacity of scenario ``s`` in month ``t`` touches one column per SKU:
  ``a_sk * (X[k, t - lag_sk] - X[k, t - lag_sk - life_k])``), with orders ``X[k, m] - X[k, m-1]
  >= 0`` and at most ``max_per_month``;
- ``y[s, t, j]`` (continuous, ``0 <= y <= width``): new units sold in demand segment ``j``;
  ``sum_j y[s, t, j] <= capacity[s, t]``;
- risk ``cvar``: ``eta`` and ``u[s] >= eta - NPV[s]``, ``eta - sum(u) / (alpha S) >=
  -max_cvar_loss`` (Rockafellar-Uryasev; exact for the sample);
- risk ``p_loss``: binary ``z[s]`` with ``NPV[s] + M_s z[s] >= 0`` and ``sum(z) <= floor(beta
  S)`` (the exact sample chance constraint; ``M_s`` bounds the scenario's worst loss), or, with
  ``solver.p_loss_method = "ranking"`` (the ``auto`` choice above 100 scenarios), the
  fix-the-losers heuristic :func:`solve_ranked`, or ``cvar_bound``, the conservative convex
  stand-in ``CVaR_beta(NPV) >= 0``, which implies ``P(loss) <= beta`` in sample.

The objective is the mean NPV over the batch; ties go to the plan spending least (a 1e-7 nudge
per server price). Money is scaled to server prices inside the solver (HiGHS tolerances are
absolute).
Doing nothing is always feasible (NPV 0 is no loss), so every limit has a plan. The function is
pure: values in, a :class:`Solution` out.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array

from suanli.economics.planning.sampling import Array, Scenarios
from suanli.economics.planning.spec import PlanningSpec
from suanli.economics.planning.valuation import (
    arrivals,
    plan_npv,
    planning_prices,
    revenue_weights,
)

TIE_BREAK = 1e-7  # per unit of capex (in server prices): among equal plans, spend the least


@dataclass(frozen=True, slots=True)
class Limit:
    """A risk limit: ``measure`` is ``p_loss`` (value = max share of loss scenarios), ``cvar``
    (value = max CVaR loss, money) or ``none``."""

    measure: str
    value: float


@dataclass(frozen=True, slots=True)
class Solution:
    orders: NDArray[np.float64]  # (K, T) servers ordered per month
    objective: float  # mean NPV over the batch (money)
    status: str  # "optimal", "time_limit" (best found), "failed" (no plan: buy nothing)
    mip_gap: float | None
    seconds: float


def max_units(spec: PlanningSpec, sc: Scenarios, prices: Array) -> NDArray[np.float64]:
    """(K,) more servers than any plan could use: demand, budget and supplier caps."""
    peak = float(np.max(np.sum(sc.width, axis=2), initial=0.0))
    out = np.zeros(len(spec.sku))
    budget = budget_limit(spec)
    for k, sku in enumerate(spec.sku):
        kept = float(np.min(1.0 - sc.shortfall[:, k]))
        bound = math.ceil(peak / (sku.capacity_units * max(kept, 1e-3)))
        if budget is not None:
            bound = min(bound, math.floor(budget / float(prices[k].min())))
        if sku.max_per_month is not None:
            bound = min(bound, sku.max_per_month * spec.decision_months)
        out[k] = max(bound, 0)
    return out


EXACT_P_LOSS_MAX_SCENARIOS = 100  # "auto": above this the exact chance constraint is too slow


def p_loss_method(spec: PlanningSpec, scenarios: int) -> str:
    """``exact`` (a binary per scenario), ``ranking`` (:func:`solve_ranked`) or ``cvar_bound``
    (CVaR at level beta >= 0); ``auto`` is exact up to 100 scenarios, else ranking."""
    method = spec.solver.p_loss_method
    if method == "auto":
        return "exact" if scenarios <= EXACT_P_LOSS_MAX_SCENARIOS else "ranking"
    return method


RANKING_ROUNDS = 5


def solve_ranked(spec: PlanningSpec, sc: Scenarios, costs: Array, beta: float) -> Solution:
    """A P(loss) <= ``beta`` plan without binaries: start from the unconstrained plan; let the
    ``floor(beta S)`` scenarios where the current plan does worst lose and require NPV >= 0 in
    all others; re-solve, re-rank, repeat until the ranking repeats (at most 5 rounds). Every
    round's plan meets the limit in sample (buying nothing always does); the best is kept. A
    heuristic: no optimality guarantee, unlike ``exact``."""
    s_n = sc.count
    allowed = math.floor(beta * s_n + 1e-9)
    budget = spec.solver.time_limit_s  # shared by every round
    free = solve(spec, sc, costs, Limit("none", 0.0))
    seconds = free.seconds
    npv = plan_npv(spec, sc, free.orders, costs)
    if int(np.sum(npv < 0.0)) <= allowed:
        return free
    best = Solution(np.zeros_like(free.orders), 0.0, "heuristic", None, 0.0)
    seen: set[bytes] = set()
    for _ in range(RANKING_ROUNDS):
        losers = np.zeros(s_n, dtype=bool)
        losers[np.argsort(npv, kind="stable")[:allowed]] = True
        if losers.tobytes() in seen:
            break
        seen.add(losers.tobytes())
        if seconds >= budget:
            break
        left = with_time_limit(spec, budget - seconds)
        sol = solve(left, sc, costs, Limit("p_loss", beta), losers=losers)
        seconds += sol.seconds
        if sol.objective > best.objective:
            best = sol
        if not sol.orders.any():  # buying nothing ranks every scenario alike: nothing to learn
            break
        npv = plan_npv(spec, sc, sol.orders, costs)
    return Solution(best.orders, best.objective, "heuristic", None, seconds)


MIN_SOLVE_SECONDS = 0.05  # a MILP always gets this much, even when the budget is spent


def with_time_limit(spec: PlanningSpec, seconds: float) -> PlanningSpec:
    """``spec`` whose solver may run ``seconds`` (at least :data:`MIN_SOLVE_SECONDS`)."""
    solver = spec.solver.model_copy(update={"time_limit_s": max(seconds, MIN_SOLVE_SECONDS)})
    return spec.model_copy(update={"solver": solver})


def budget_limit(spec: PlanningSpec) -> float | None:
    """The tightest of the total budget, the loan cap and the equity cap, as capex."""
    fin = spec.financing
    caps = [spec.budget.total]
    if fin.max_loan is not None and fin.loan_share > 0.0:
        caps.append(fin.max_loan / fin.loan_share)
    if fin.equity is not None and fin.loan_share < 1.0:
        caps.append(fin.equity / (1.0 - fin.loan_share))
    known = [c for c in caps if c is not None]
    return min(known) if known else None


def _to_cumulative(per_month: Array) -> Array:
    """Coefficients on orders per month ``(..., T)`` as coefficients on cumulative ``X``."""
    nxt = np.concatenate([per_month[..., 1:], np.zeros_like(per_month[..., :1])], axis=-1)
    out: Array = per_month - nxt
    return out


class _Program:
    """A MILP being built: columns (objective, integrality, bounds) and sparse rows."""

    def __init__(self) -> None:
        self.obj: list[Array] = []
        self.integ: list[Array] = []
        self.lo: list[Array] = []
        self.hi: list[Array] = []
        self.cols = 0
        self.r: list[NDArray[np.int64]] = []
        self.c: list[NDArray[np.int64]] = []
        self.v: list[Array] = []
        self.lb: list[Array] = []
        self.ub: list[Array] = []
        self.n = 0

    def columns(self, obj: Array, integer: bool, lo: Array, hi: Array) -> NDArray[np.int64]:
        """Add ``obj.size`` columns; returns their indices."""
        idx = self.cols + np.arange(obj.size)
        self.obj.append(obj)
        self.integ.append(np.full(obj.size, 1.0 if integer else 0.0))
        self.lo.append(lo)
        self.hi.append(hi)
        self.cols += obj.size
        return idx

    def rows(
        self, count: int, r: NDArray[np.int64], c: NDArray[np.int64], v: Array, lb: Array, ub: Array
    ) -> None:
        """Add ``count`` rows ``lb <= A x <= ub`` from triplets (``r`` counted from 0)."""
        self.r.append(r + self.n)
        self.c.append(c)
        self.v.append(v)
        self.lb.append(lb)
        self.ub.append(ub)
        self.n += count

    def solve(self, spec: PlanningSpec) -> Any:
        a = coo_array(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
            shape=(self.n, self.cols),
        )
        return milp(
            np.concatenate(self.obj),
            integrality=np.concatenate(self.integ),
            bounds=Bounds(np.concatenate(self.lo), np.concatenate(self.hi)),
            constraints=LinearConstraint(
                csr_array(a), np.concatenate(self.lb), np.concatenate(self.ub)
            ),
            options={
                "time_limit": spec.solver.time_limit_s,
                "mip_rel_gap": spec.solver.mip_rel_gap,
                "disp": False,
            },
        )


@dataclass(frozen=True, slots=True)
class _Batch:
    """The batch's coefficients, scaled to server prices: ``x`` columns are ``X[k, m]``
    (``K * T``), ``y`` columns the open sale cells ``(ys, yt, yj)``."""

    spec: PlanningSpec
    sc: Scenarios
    costs: Array
    scale: float
    prices: Array  # (K, T) planning prices
    ub_units: Array  # (K,)
    lag: NDArray[np.int64]  # (S, K)
    x: NDArray[np.int64]
    y: NDArray[np.int64]
    ys: NDArray[np.intp]
    yt: NDArray[np.intp]
    yval: Array  # NPV of one unit sold in each y cell
    xcost: Array  # (S, K * T) cost of each X column per scenario
    xprice: Array  # (K * T,) planning price of each X column


def _batch(spec: PlanningSpec, sc: Scenarios, costs: Array, prog: _Program, relax: bool) -> _Batch:
    """Phase 1: the order columns ``X`` and the sale columns ``y`` with the mean-NPV objective
    (mean revenue - mean cost, plus the tie-break); only cells that can have new capacity
    (after the scenario's earliest arrival, with demand left) get a ``y``."""
    scale = 1.0 / max(s.unit_price for s in spec.sku)
    s_n, h, _ = sc.rent.shape
    t_n = spec.decision_months
    prices = planning_prices(spec, sc)
    ub_units = max_units(spec, sc, prices)
    lag = arrivals(spec, sc)
    xprice = _to_cumulative(prices).ravel() * scale
    xcost = _to_cumulative(costs).reshape(s_n, -1) * scale
    nx = xprice.size
    x = prog.columns(
        xcost.mean(axis=0) + TIE_BREAK * xprice,
        not relax,
        np.zeros(nx),
        np.repeat(ub_units, t_n),
    )
    open_ = (np.arange(h)[None, :] >= lag.min(axis=1)[:, None])[:, :, None] & (sc.width > 1e-12)
    ys, yt, yj = np.nonzero(open_)
    yval = revenue_weights(spec)[yt] * sc.rent[ys, yt, yj] * scale
    y = prog.columns(-yval / s_n, False, np.zeros(ys.size), sc.width[ys, yt, yj])
    return _Batch(spec, sc, costs, scale, prices, ub_units, lag, x, y, ys, yt, yval, xcost, xprice)


def _order_rows(b: _Batch, prog: _Program) -> None:
    """Phase 2: orders ``X[k, m] - X[k, m-1]`` in ``[0, max_per_month]``."""
    t_n = b.spec.decision_months
    nx = b.x.size
    cap = np.array([s.max_per_month if s.max_per_month is not None else np.inf for s in b.spec.sku])
    later = np.nonzero(np.arange(nx) % t_n != 0)[0]
    prog.rows(
        nx,
        np.concatenate([np.arange(nx), later]),
        np.concatenate([b.x, b.x[later] - 1]),
        np.concatenate([np.ones(nx), -np.ones(later.size)]),
        np.zeros(nx),
        cap[np.arange(nx) // t_n],
    )


def _capacity_rows(b: _Batch, prog: _Program) -> None:
    """Phase 3: ``sum_j y[s,t,j] <= sum_k a_sk (X[k, t-lag] - X[k, t-lag-life])``."""
    h, t_n = b.sc.rent.shape[1], b.spec.decision_months
    cells, row_of = np.unique(b.ys * h + b.yt, return_inverse=True)
    cs, ct = np.divmod(cells, h)
    rr, cc, vv = [row_of.astype(np.int64)], [b.y], [np.ones(b.y.size)]
    for k, sku in enumerate(b.spec.sku):
        a = sku.capacity_units * (1.0 - b.sc.shortfall[cs, k])
        for sign, shift in ((-1.0, 0), (1.0, sku.useful_life_months)):
            m = ct - b.lag[cs, k] - shift
            ok = m >= 0
            rr.append(np.nonzero(ok)[0])
            cc.append(b.x[k * t_n + np.minimum(m[ok], t_n - 1)])
            vv.append(sign * a[ok])
    count = cells.size
    prog.rows(
        count,
        np.concatenate(rr),
        np.concatenate(cc),
        np.concatenate(vv),
        np.full(count, -np.inf),
        np.zeros(count),
    )


def _budget_rows(b: _Batch, prog: _Program) -> None:
    """Phase 4: total and monthly capex on the planning price."""
    budget = budget_limit(b.spec)
    nx, t_n = b.x.size, b.spec.decision_months
    if budget is not None:
        prog.rows(
            1,
            np.zeros(nx, np.int64),
            b.x,
            b.xprice,
            np.array([-np.inf]),
            np.array([budget * b.scale]),
        )
    per_month = b.spec.budget.per_month
    if per_month is not None:
        month = np.arange(nx) % t_n
        later = np.nonzero(month != 0)[0]
        price = b.prices.ravel() * b.scale
        prog.rows(
            t_n,
            np.concatenate([month, month[later]]),
            np.concatenate([b.x, b.x[later] - 1]),
            np.concatenate([price, -price[later]]),
            np.full(t_n, -np.inf),
            np.full(t_n, per_month * b.scale),
        )


def _npv_rows(
    b: _Batch, prog: _Program, extra: list[tuple[NDArray[np.int64], Array]], lb: Array
) -> None:
    """One row per scenario: ``NPV[s] + sum(extra) >= lb[s]``, ``extra`` = (column per
    scenario, coefficient per scenario) pairs."""
    s_n, nx = b.xcost.shape
    scen = np.arange(s_n)
    prog.rows(
        s_n,
        np.concatenate([b.ys, np.repeat(scen, nx), *(scen for _ in extra)]),
        np.concatenate([b.y, np.tile(b.x, s_n), *(col for col, _ in extra)]),
        np.concatenate([b.yval, -b.xcost.ravel(), *(val for _, val in extra)]),
        lb,
        np.full(s_n, np.inf),
    )


def _cvar_rows(b: _Batch, prog: _Program, alpha: float, floor: float) -> None:
    """Rockafellar-Uryasev: ``eta - sum(u) / (alpha S) >= -floor``, ``u_s >= eta - NPV_s``."""
    s_n = b.sc.count
    eta = prog.columns(np.zeros(1), False, np.array([-np.inf]), np.array([np.inf]))
    u = prog.columns(np.zeros(s_n), False, np.zeros(s_n), np.full(s_n, np.inf))
    _npv_rows(b, prog, [(u, np.ones(s_n)), (np.repeat(eta, s_n), -np.ones(s_n))], np.zeros(s_n))
    prog.rows(
        1,
        np.zeros(s_n + 1, np.int64),
        np.concatenate([eta, u]),
        np.concatenate([[1.0], -np.ones(s_n) / (alpha * s_n)]),
        np.array([-floor * b.scale]),
        np.array([np.inf]),
    )


def _chance_rows(b: _Batch, prog: _Program, beta: float, relax: bool) -> None:
    """The exact sample chance constraint: ``NPV_s + M_s z_s >= 0``, ``sum z <= floor(beta S)``."""
    s_n = b.sc.count
    allowed = math.floor(beta * s_n + 1e-9)
    if allowed >= s_n:
        return
    # NPV >= -(what the most servers could cost): revenue is never negative; with a budget, no
    # plan spends more than it at the dearest cost per unit of price
    paid = np.clip(b.costs, 0.0, None)
    worst = paid.max(axis=2) @ b.ub_units
    budget = budget_limit(b.spec)
    if budget is not None:
        worst = np.minimum(worst, budget * (paid / b.prices[None, :, :]).max(axis=(1, 2)))
    big_m = worst * b.scale + 1.0  # + 1 server price of slack
    z = prog.columns(np.zeros(s_n), not relax, np.zeros(s_n), np.ones(s_n))
    _npv_rows(b, prog, [(z, big_m)], np.zeros(s_n))
    prog.rows(
        1, np.zeros(s_n, np.int64), z, np.ones(s_n), np.array([-np.inf]), np.array([float(allowed)])
    )


def _risk_rows(
    b: _Batch, prog: _Program, limit: Limit, relax: bool, losers: NDArray[np.bool_] | None
) -> None:
    """Phase 5: the risk limit on ``NPV[s] = yval[s] . y - xcost[s] . X``."""
    s_n = b.sc.count
    if limit.measure == "cvar":
        _cvar_rows(b, prog, b.spec.risk.cvar_alpha, limit.value)
    elif limit.measure == "p_loss" and losers is not None:
        _npv_rows(b, prog, [], np.where(losers, -np.inf, 0.0))
    elif limit.measure == "p_loss" and p_loss_method(b.spec, s_n) == "cvar_bound":
        # CVaR_beta(NPV) >= 0 implies P(NPV < 0) <= beta: the convex, conservative stand-in
        if limit.value < 1.0:
            _cvar_rows(b, prog, max(limit.value, 1.0 / s_n), 0.0)
    elif limit.measure == "p_loss":
        _chance_rows(b, prog, limit.value, relax)


def solve(
    spec: PlanningSpec,
    sc: Scenarios,
    costs: Array,
    limit: Limit,
    *,
    relax: bool = False,
    losers: NDArray[np.bool_] | None = None,
) -> Solution:
    """The plan maximising mean NPV over ``sc`` under ``limit``; ``costs`` is
    :func:`~.valuation.order_costs` of ``sc``. ``relax`` drops integrality (the LP bound).
    ``losers`` (with a ``p_loss`` limit) fixes which scenarios may lose: every other one must
    have NPV >= 0 (the ranking heuristic's step; no binaries). Phases 1-5 build the program
    (columns and objective, orders, capacity, budget, risk); 6 solves and reads the plan."""
    ranked = limit.measure == "p_loss" and losers is None and not relax
    if ranked and p_loss_method(spec, sc.count) == "ranking":
        return solve_ranked(spec, sc, costs, limit.value)
    started = time.perf_counter()
    prog = _Program()
    b = _batch(spec, sc, costs, prog, relax)
    _order_rows(b, prog)
    _capacity_rows(b, prog)
    _budget_rows(b, prog)
    _risk_rows(b, prog, limit, relax, losers)
    res = prog.solve(spec)  # 6.
    seconds = time.perf_counter() - started
    k_n, t_n = len(spec.sku), spec.decision_months
    if res.x is None:
        return Solution(np.zeros((k_n, t_n)), 0.0, "failed", None, seconds)
    cum = res.x[b.x].reshape(k_n, t_n)
    if not relax:
        cum = np.rint(cum)
    orders = np.clip(np.diff(cum, axis=1, prepend=0.0), 0.0, None)
    gap = getattr(res, "mip_gap", None)
    return Solution(
        orders,
        -(float(res.fun) - TIE_BREAK * float(b.xprice @ res.x[b.x])) / b.scale,
        "optimal" if res.status == 0 else "time_limit",
        None if gap is None else float(gap),
        seconds,
    )
