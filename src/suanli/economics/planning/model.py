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

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array

from suanli.economics.planning.sampling import Array, Scenarios
from suanli.economics.planning.spec import PlanningSpec
from suanli.economics.planning.valuation import arrivals, discount, plan_npv, planning_prices

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
        sol = solve(spec, sc, costs, Limit("p_loss", beta), losers=losers)
        seconds += sol.seconds
        if sol.objective > best.objective:
            best = sol
        if not sol.orders.any():  # buying nothing ranks every scenario alike: nothing to learn
            break
        npv = plan_npv(spec, sc, sol.orders, costs)
    return Solution(best.orders, best.objective, "heuristic", None, seconds)


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


class _Rows:
    def __init__(self) -> None:
        self.r: list[NDArray[np.int64]] = []
        self.c: list[NDArray[np.int64]] = []
        self.v: list[NDArray[np.float64]] = []
        self.lb: list[NDArray[np.float64]] = []
        self.ub: list[NDArray[np.float64]] = []
        self.n = 0

    def add(
        self, rows: int, r: NDArray[np.int64], c: NDArray[np.int64], v: Array, lb: Array, ub: Array
    ) -> None:
        self.r.append(r + self.n)
        self.c.append(c)
        self.v.append(v)
        self.lb.append(lb)
        self.ub.append(ub)
        self.n += rows

    def build(self, cols: int) -> LinearConstraint:
        a = coo_array(
            (np.concatenate(self.v), (np.concatenate(self.r), np.concatenate(self.c))),
            shape=(self.n, cols),
        )
        return LinearConstraint(csr_array(a), np.concatenate(self.lb), np.concatenate(self.ub))


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
    have NPV >= 0 (the ranking heuristic's step; no binaries)."""
    ranked = limit.measure == "p_loss" and losers is None and not relax
    if ranked and p_loss_method(spec, sc.count) == "ranking":
        return solve_ranked(spec, sc, costs, limit.value)
    started = time.perf_counter()
    scale = 1.0 / max(s.unit_price for s in spec.sku)
    s_n, h, _ = sc.rent.shape
    k_n, t_n = len(spec.sku), spec.decision_months
    prices = planning_prices(spec, sc)
    ub_units = max_units(spec, sc, prices)
    disc = discount(spec, h)
    lag = arrivals(spec, sc)  # (S, K)
    nx = k_n * t_n

    # 1. which (s, t) can have new capacity at all, and its y columns
    earliest = lag.min(axis=1)  # (S,)
    open_ = (np.arange(h)[None, :] >= earliest[:, None])[:, :, None] & (sc.width > 1e-12)
    ys, yt, yj = np.nonzero(open_)
    ny = ys.size
    ycol = nx + np.arange(ny)
    yval = disc[yt] * sc.rent[ys, yt, yj] * scale  # NPV coefficient of each y
    cols = nx + ny
    rows = _Rows()

    # 2. orders are non-negative and capped per month: X[k, m] - X[k, m-1] in [0, cap]
    k_idx, m_idx = np.divmod(np.arange(nx), t_n)
    cap_month = np.array(
        [s.max_per_month if s.max_per_month is not None else np.inf for s in spec.sku]
    )
    first = m_idx == 0
    r = np.concatenate([np.arange(nx), np.nonzero(~first)[0]])
    c = np.concatenate([np.arange(nx), np.nonzero(~first)[0] - 1])
    v = np.concatenate([np.ones(nx), -np.ones(int((~first).sum()))])
    rows.add(nx, r, c, v, np.zeros(nx), cap_month[k_idx])

    # 3. capacity: sum_j y[s,t,j] - sum_k a_sk (X[k, t-lag] - X[k, t-lag-life]) <= 0
    cell = ys * h + yt
    cells, row_of = np.unique(cell, return_inverse=True)
    cs, ct = np.divmod(cells, h)
    rr = [row_of.astype(np.int64)]
    cc = [ycol]
    vv = [np.ones(ny)]
    for k, sku in enumerate(spec.sku):
        a = sku.capacity_units * (1.0 - sc.shortfall[cs, k])
        for sign, shift in ((-1.0, 0), (1.0, sku.useful_life_months)):
            m = ct - lag[cs, k] - shift
            ok = m >= 0
            rr.append(np.nonzero(ok)[0])
            cc.append(k * t_n + np.minimum(m[ok], t_n - 1))
            vv.append(sign * a[ok])
    rows.add(
        cells.size,
        np.concatenate(rr),
        np.concatenate(cc),
        np.concatenate(vv),
        np.full(cells.size, -np.inf),
        np.zeros(cells.size),
    )

    # 4. budget on the planning price
    budget = budget_limit(spec)
    xprice = _to_cumulative(prices).ravel() * scale
    if budget is not None:
        rows.add(
            1,
            np.zeros(nx, np.int64),
            np.arange(nx),
            xprice,
            np.array([-np.inf]),
            np.array([budget * scale]),
        )
    if spec.budget.per_month is not None:
        r = np.concatenate([np.arange(nx) % t_n, (np.arange(nx) % t_n)[~first]])
        c = np.concatenate([np.arange(nx), np.nonzero(~first)[0] - 1])
        v = np.concatenate([prices.ravel(), -prices.ravel()[~first]]) * scale
        rows.add(t_n, r, c, v, np.full(t_n, -np.inf), np.full(t_n, spec.budget.per_month * scale))

    # 5. objective: mean NPV = mean revenue - mean cost
    xcost = _to_cumulative(costs).reshape(s_n, nx) * scale  # (S, nx) cost coefficient on X
    objective = np.concatenate([xcost.mean(axis=0) + TIE_BREAK * xprice, -yval / s_n])
    integrality = np.concatenate([np.full(nx, 0 if relax else 1), np.zeros(ny)])
    lower = np.zeros(cols)
    upper = np.concatenate([np.repeat(ub_units, t_n), sc.width[ys, yt, yj]])

    # 6. the risk limit, on NPV[s] = sum yval[s] y - xcost[s] X
    def npv_rows(
        extra: list[tuple[NDArray[np.int64], NDArray[np.int64], Array]], lb: Array | None = None
    ) -> None:
        r = np.concatenate([ys, np.repeat(np.arange(s_n), nx), *(e[0] for e in extra)])
        c = np.concatenate([ycol, np.tile(np.arange(nx), s_n), *(e[1] for e in extra)])
        v = np.concatenate([yval, -xcost.ravel(), *(e[2] for e in extra)])
        rows.add(s_n, r, c, v, np.zeros(s_n) if lb is None else lb, np.full(s_n, np.inf))

    scen = np.arange(s_n)
    measure, alpha, floor = limit.measure, spec.risk.cvar_alpha, limit.value
    if measure == "p_loss" and losers is not None:
        measure = "fixed_losers"
        npv_rows([], np.where(losers, -np.inf, 0.0))
    elif measure == "p_loss" and p_loss_method(spec, s_n) == "cvar_bound":
        # CVaR_beta(NPV) >= 0 implies P(NPV < 0) <= beta: the convex, conservative stand-in
        measure, alpha, floor = "cvar", max(limit.value, 1.0 / s_n), 0.0
        if limit.value >= 1.0:
            measure = "none"
    if measure == "cvar":
        eta, u = cols, cols + 1 + scen
        cols += 1 + s_n
        npv_rows([(scen, u, np.ones(s_n)), (scen, np.full(s_n, eta), -np.ones(s_n))])
        rows.add(
            1,
            np.zeros(s_n + 1, np.int64),
            np.concatenate([[eta], u]),
            np.concatenate([[1.0], -np.ones(s_n) / (alpha * s_n)]),
            np.array([-floor * scale]),
            np.array([np.inf]),
        )
        objective = np.concatenate([objective, np.zeros(1 + s_n)])
        integrality = np.concatenate([integrality, np.zeros(1 + s_n)])
        lower = np.concatenate([lower, [-np.inf], np.zeros(s_n)])
        upper = np.concatenate([upper, np.full(1 + s_n, np.inf)])
    elif measure == "p_loss":
        allowed = math.floor(limit.value * s_n + 1e-9)
        if allowed < s_n:
            # NPV >= -(what the most servers could cost): revenue is never negative; with a
            # budget, no plan spends more than it at the dearest cost per unit of price
            worst = np.clip(costs, 0.0, None).max(axis=2) @ ub_units
            if budget is not None:
                ratio = (np.clip(costs, 0.0, None) / prices[None, :, :]).max(axis=(1, 2))
                worst = np.minimum(worst, budget * ratio)
            worst = worst * scale + 1.0  # + 1 server price of slack
            z = cols + scen
            cols += s_n
            npv_rows([(scen, z, worst)])
            rows.add(
                1,
                np.zeros(s_n, np.int64),
                z,
                np.ones(s_n),
                np.array([-np.inf]),
                np.array([float(allowed)]),
            )
            objective = np.concatenate([objective, np.zeros(s_n)])
            integrality = np.concatenate([integrality, np.full(s_n, 0 if relax else 1)])
            lower = np.concatenate([lower, np.zeros(s_n)])
            upper = np.concatenate([upper, np.ones(s_n)])

    # 7. solve
    res = milp(
        objective,
        integrality=integrality,
        bounds=Bounds(lower, upper),
        constraints=rows.build(cols),
        options={
            "time_limit": spec.solver.time_limit_s,
            "mip_rel_gap": spec.solver.mip_rel_gap,
            "disp": False,
        },
    )
    seconds = time.perf_counter() - started
    if res.x is None:
        return Solution(np.zeros((k_n, t_n)), 0.0, "failed", None, seconds)
    x = res.x[:nx].reshape(k_n, t_n)
    if not relax:
        x = np.rint(x)
    orders = np.diff(np.concatenate([np.zeros((k_n, 1)), x], axis=1), axis=1)
    orders = np.clip(orders, 0.0, None)
    gap = getattr(res, "mip_gap", None)
    status = "optimal" if res.status == 0 else "time_limit"
    return Solution(
        orders,
        -(float(res.fun) - TIE_BREAK * float(xprice @ res.x[:nx])) / scale,
        status,
        None if gap is None else float(gap),
        seconds,
    )
