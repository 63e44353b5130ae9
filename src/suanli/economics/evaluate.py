"""Deterministic evaluation of one scenario: the cash-flow table and every headline metric.

Owns :func:`evaluate` and :class:`Evaluation`. Margins are over the whole horizon:
gross = (revenue - cost of revenue) / revenue, cost of revenue = power + cabinet + O&M +
depreciation; EBITDA margin; net margin = net income / revenue. Cost per GPU-hour = (cash opex +
depreciation + interest) / available GPU-hours (and per *sold* GPU-hour). Values that do not
apply (no revenue, no IRR, never pays back, the investment form has no occupancy) are ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from suanli.economics.breakeven import Criterion, breakeven_occupancy, breakeven_rent
from suanli.economics.cashflow import (
    COLUMNS,
    CashFlows,
    deterministic_draws,
    discounted_cumulative,
    project,
    project_investment,
)
from suanli.economics.covenants import basis_flows, covenants
from suanli.economics.metrics import irr, payback, ratio
from suanli.economics.plan import build_investment_plan, build_plan, monthly_rate
from suanli.economics.scenario import Financing, Investment, Scenario


@dataclass(frozen=True, slots=True)
class YearRow:
    year: int
    revenue: float
    ebitda: float
    net_income: float
    fcf: float
    net_margin: float | None


@dataclass(frozen=True, slots=True)
class Evaluation:
    name: str
    kind: str
    currency: str
    horizon_months: int
    npv: float
    irr_monthly: float | None
    irr_annual: float | None
    irr_status: str
    static_payback_months: float | None
    dynamic_payback_months: float | None
    gross_margin: float | None
    ebitda_margin: float | None
    net_margin: float | None
    breakeven_occupancy: float | None
    breakeven_rent: float | None
    breakeven_rent_unit: str | None
    cost_per_gpu_hour: float | None
    cost_per_sold_gpu_hour: float | None
    total_revenue: float
    total_net_income: float
    total_capex: float
    loss: bool
    npv_project: float  # before financing (docs/economics.md, "Financing")
    npv_equity: float  # after interest, fees, loan draws and repayments
    min_dscr: float | None  # lowest trailing-12 DSCR while debt is serviced
    max_leverage: float | None  # highest debt / trailing-12 EBITDA
    covenant_breach_months: int  # months breaching financing.dscr_min / leverage_max
    first_covenant_breach_month: int | None
    yearly: list[YearRow] = field(default_factory=list)
    flows: CashFlows | None = None
    breached_months: list[int] = field(default_factory=list)  # each month flagged, from 1
    # project NPV of the same servers with no financing at all (tax without the interest
    # deduction, input VAT credited at delivery): npv_project - npv_unlevered is the value of
    # the financing's side effects (interest tax shield, a finance lease's later VAT credit)
    npv_unlevered: float | None = None

    def summary(self) -> dict[str, Any]:
        """JSON-ready headline figures (no table)."""
        out = {k: getattr(self, k) for k in self.__slots__ if k not in ("yearly", "flows")}
        out["yearly"] = [dict(zip(YearRow.__slots__, _row(y), strict=True)) for y in self.yearly]
        return {k: _clean(v) for k, v in out.items()}

    def table(self) -> list[dict[str, float]]:
        """Monthly rows: ``month`` and every column of the cash-flow table."""
        assert self.flows is not None
        path = self.flows.path(0)
        return [
            {"month": t, **{c: float(path[c][t]) for c in COLUMNS}}
            for t in range(self.horizon_months + 1)
        ]


def _row(y: YearRow) -> tuple[Any, ...]:
    return tuple(getattr(y, s) for s in YearRow.__slots__)


def _clean(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, list):
        return [
            {k: _clean(x) for k, x in item.items()} if isinstance(item, dict) else item
            for item in v
        ]
    return v


def flows_of(scenario: Scenario) -> CashFlows:
    """The deterministic cash-flow table (one path) of ``scenario``."""
    if isinstance(scenario.form, Investment):
        iplan = build_investment_plan(scenario)
        years = max(1, scenario.horizon_months // 12)
        expected = scenario.form.shortfall_probability * scenario.form.shortfall_pct
        return project_investment(iplan, np.full((1, years), expected))
    plan = build_plan(scenario)
    return project(plan, deterministic_draws(plan))


def yearly(flows: CashFlows, months: int) -> list[YearRow]:
    rows = []
    for y in range(math.ceil(months / 12)):
        sl = slice(12 * y + 1, min(12 * (y + 1), months) + 1)
        rev = float(flows.revenue[0, sl].sum())
        ni = float(flows.net_income[0, sl].sum())
        rows.append(
            YearRow(
                y + 1,
                rev,
                float(flows.ebitda[0, sl].sum()),
                ni,
                float(flows.fcf[0, sl].sum()),
                ratio(ni, rev),
            )
        )
    return rows


def _nan_to_none(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def evaluate(
    scenario: Scenario, criterion: Criterion = "npv", *, with_breakeven: bool = True
) -> Evaluation:
    """Everything about ``scenario`` under its deterministic assumptions. ``criterion`` is
    the break-even criterion; ``with_breakeven=False`` skips the two root searches."""
    flows = flows_of(scenario)
    fcf = flows.fcf[0]
    result = irr(fcf)
    rev = float(flows.revenue[0].sum())
    cost_of_revenue = sum(float(flows.column(c)[0].sum()) for c in ("power", "cabinet", "om"))
    dep = float(flows.depreciation[0].sum())
    ebitda = float(flows.ebitda[0].sum())
    ni = float(flows.net_income[0].sum())
    interest = float(flows.interest[0].sum())
    operating = not isinstance(scenario.form, Investment)
    cost = rev - ebitda + dep + interest
    gpu_h = float(flows.gpu_hours[0].sum())
    sold_h = float(flows.sold_gpu_hours[0].sum())
    be_occ = be_rent = None
    unit = None
    if operating:
        plan = build_plan(scenario)
        unit = "per server-month" if plan.kind == "bare_metal" else "per GPU-hour"
    if operating and with_breakeven:
        be_occ = breakeven_occupancy(plan, criterion)
        be_rent = breakeven_rent(plan, criterion)
    equity_basis = scenario.cash_flow_basis == "equity"
    project_fcf, equity_fcf = basis_flows(flows, equity_basis)
    monthly = monthly_rate(scenario.discount_rate_annual)
    min_dscr = max_lev = first_breach = None
    breaches = 0
    breached: list[int] = []
    if operating:
        share = plan.delivered_fraction
        principal = plan.prop.principal * share + plan.fixed.principal
        draws = plan.prop.loan_draw * share + plan.fixed.loan_draw
        fin = scenario.financing
        cov = covenants(
            flows,
            equity_basis,
            principal,
            np.cumsum(draws - principal),
            fin.dscr_min,
            fin.leverage_max,
        )
        dscr = cov.dscr[0, 1:]
        if np.isfinite(dscr).any():
            min_dscr = float(np.nanmin(dscr))
        if (cov.leverage[0, 1:] > 0).any():
            max_lev = float(cov.leverage[0, 1:].max())
        flagged = np.flatnonzero(cov.breach[0])
        breaches = int(flagged.size)
        first_breach = int(flagged[0]) if flagged.size else None
        breached = [int(m) for m in flagged]
    return Evaluation(
        name=scenario.name,
        kind=scenario.form.kind,
        currency=scenario.currency,
        horizon_months=scenario.horizon_months,
        npv=float(flows.discounted_cumulative[0, -1]),
        irr_monthly=result.monthly,
        irr_annual=result.annual,
        irr_status=result.status,
        static_payback_months=_nan_to_none(float(payback(flows.cumulative)[0])),
        dynamic_payback_months=_nan_to_none(float(payback(flows.discounted_cumulative)[0])),
        gross_margin=ratio(rev - cost_of_revenue - dep, rev) if operating else None,
        ebitda_margin=ratio(ebitda, rev) if operating else None,
        net_margin=ratio(ni, rev),
        breakeven_occupancy=be_occ,
        breakeven_rent=be_rent,
        breakeven_rent_unit=unit,
        cost_per_gpu_hour=ratio(cost, gpu_h) if operating else None,
        cost_per_sold_gpu_hour=ratio(cost, sold_h) if operating else None,
        total_revenue=rev,
        total_net_income=ni,
        total_capex=float(flows.capex[0].sum()),
        loss=ni < 0.0,
        npv_project=float(discounted_cumulative(project_fcf, monthly)[0, -1]),
        npv_equity=float(discounted_cumulative(equity_fcf, monthly)[0, -1]),
        min_dscr=min_dscr,
        max_leverage=max_lev,
        covenant_breach_months=breaches,
        first_covenant_breach_month=first_breach,
        yearly=yearly(flows, scenario.horizon_months),
        flows=flows,
        breached_months=breached,
        npv_unlevered=_unlevered_npv(scenario, project_fcf, monthly),
    )


def _unlevered_npv(scenario: Scenario, project_fcf: NDArray[np.float64], monthly: float) -> float:
    """Project NPV with the financing section reset to none (equal to the project NPV when
    nothing is financed, so only financed scenarios are projected twice)."""
    if scenario.financing == Financing():
        return float(discounted_cumulative(project_fcf, monthly)[0, -1])
    bare = scenario.model_copy(update={"financing": Financing()})
    unfunded, _ = basis_flows(flows_of(bare), bare.cash_flow_basis == "equity")
    return float(discounted_cumulative(unfunded, monthly)[0, -1])
