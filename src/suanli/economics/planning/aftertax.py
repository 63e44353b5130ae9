"""After-tax valuation of purchase plans on the economics engine's own cash flow.

Owns :func:`engine_npv` (the exact after-tax NPV of a plan in each scenario: the economics
engine's :func:`~suanli.economics.cashflow.project`, the code ``suanli econ evaluate`` runs, on a
:class:`~suanli.economics.plan.Plan` assembled from the plan's deliveries), :func:`linear_costs`
and :func:`revenue_weights` (the same cash flow with taxes taken as linear, which is what the
MILP can optimise). Nothing of the engine is re-implemented: depreciation (book and tax, the
one-time deduction with its date window and per-unit limit), disposal gains, loan draws,
interest and principal come from :func:`~suanli.economics.plan.capex_series`; VAT carry-forward,
surcharges and income tax with loss expiry from :func:`~suanli.economics.cashflow.project`.

Grid (the engine's): engine month ``e = 0 .. H``. A planning month ``t`` of operation is engine
month ``t + 1``; an order placed in planning month ``m`` pays its deposit in engine month
``m``; a server arriving in planning month ``a`` is *delivered* in engine month ``a`` (the rest
of its price paid, depreciation and the loan start) and earns from engine month ``a + 1`` —
planning month ``a``, as in the pre-tax valuation. So engine month ``e`` carries the cash of
the start of planning month ``e`` and the operation of planning month ``e - 1``.

Conventions (docs/economics.md, "After-tax planning"):

- prices, rents and opex in the planning file are VAT-exclusive; capex is paid VAT-inclusive at
  ``taxes.input_vat_rate`` and its input VAT credited (``credit_input_vat``) against the output
  VAT on rent (``taxes.vat_rate``), an uncredited balance carried forward;
- book depreciation is straight line over the SKU's useful life to ``salvage_pct``; a server
  retired at its life is sold for ``salvage_pct`` of its VAT-inclusive price, one still in
  service at the horizon is valued at ``resale_pct_of_book`` of its straight-line book value
  (terminal cash, as the engine values servers still running);
- debt finances ``financing.loan_share`` of each delivered server at delivery (an annuity at
  the nominal monthly rate ``rate_annual / 12``); the deposit is paid from equity;
- the deposit on an undelivered share is lost at the arrival month and deducted as a loss;
  an order arriving at or after the horizon loses its deposit at the horizon;
- the plan is taxed as a stand-alone project (its own losses carried forward and expiring, no
  group relief), exactly as ``econ evaluate`` taxes a scenario.

The *linear* version assumes every tax credit is used in the month it arises (a group with
other taxable profit and output VAT): then the NPV is additive over servers and sales, which
the MILP needs. The MILP ranks plans on it; every reported figure is :func:`engine_npv`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from suanli.economics.cashflow import Draws, project
from suanli.economics.plan import CapexSeries, Plan, capex_series, monthly_rate, one_time_eligible
from suanli.economics.planning.sampling import Array, Scenarios
from suanli.economics.planning.spec import PlanningSpec, Sku
from suanli.economics.scenario import Capex, Depreciation, Financing, Opex, Scenario, Taxes

FIELDS = (
    "capex",
    "depreciation",
    "loan_draw",
    "interest",
    "principal",
    "input_vat",
    "tax_depreciation",
    "proceeds",
    "gain_book",
    "gain_tax",
)
_F = {name: i for i, name in enumerate(FIELDS)}


def engine_scenario(spec: PlanningSpec, sku: Sku) -> Scenario:
    """The engine settings one SKU's servers are depreciated, financed and taxed under (only
    the sections :func:`~suanli.economics.plan.capex_series` reads are meaningful)."""
    tx = spec.taxes
    years = sku.useful_life_months / 12.0
    fin = spec.financing
    return Scenario.model_construct(  # type: ignore[call-arg]  # no form: capex only
        horizon_months=spec.horizon_months,
        start_date=tx.start_date,
        capex=Capex(),
        opex=Opex(om_pct_capex_annual=0.0),
        financing=Financing.model_construct(
            loan_share=fin.loan_share,
            rate_annual=fin.rate_annual,
            term_months=fin.term_months,
            rate_convention="nominal",
            grace_months=0,
            upfront_fee_pct=0.0,
            sale_leaseback_month=None,
            finance_lease=False,
        ),
        taxes=Taxes(
            vat_rate=tx.vat_rate,
            prices_include_vat=False,
            income_tax_rate=tx.income_tax_rate,
            credit_input_vat=tx.credit_input_vat,
            input_vat_rate=tx.input_vat_rate,
            surcharge_rate=tx.surcharge_rate,
            loss_carryforward_years=tx.loss_carryforward_years,
        ),
        depreciation=Depreciation.model_construct(
            years=years,
            salvage_pct=sku.salvage_pct,
            resale_pct_at_end=sku.salvage_pct,
            method="straight_line",
            tax_method=tx.tax_method,
            tax_years=tx.tax_years,
            one_time_limit_per_unit=tx.one_time_limit_per_unit,
            one_time_eligible_from=tx.one_time_eligible_from,
            one_time_eligible_until=tx.one_time_eligible_until,
        ),
    )


@dataclass(frozen=True, slots=True)
class Responses:
    """The engine's series of one unit of VAT-inclusive capex delivered in engine month ``d``
    (``d = 0 .. H - 1``), per SKU and one-time-deduction flag, and what they are worth."""

    series: Array  # (K, 2, H, F, n) fields of FIELDS
    active: Array  # (K, H, n) 1 in the months a server delivered in d is in service
    date_ok: NDArray[np.bool_]  # (K, H) delivery month inside the one-time date window
    lin: Array  # (K, 2, H) PV of the unit's after-tax cash flow, taxes linear
    opex_pv: Array  # (K, H) PV of one currency unit a month over the service months
    disc: Array  # (n,) the engine's discount factors


def _unit_fcf(spec: PlanningSpec, s: Array) -> Array:
    """After-tax cash flow of capex series ``s`` (..., F, n) with taxes linear (every credit used
    at once): the engine's ``project`` formula without its carry-forward floors."""
    tx = spec.taxes
    f = {name: s[..., i, :] for name, i in _F.items()}
    vat_in = f["input_vat"]
    ebt = -f["depreciation"] - f["interest"] + f["gain_book"] + tx.surcharge_rate * vat_in
    taxable = ebt + f["depreciation"] - f["gain_book"] + f["gain_tax"] - f["tax_depreciation"]
    equity = tx.cash_flow == "equity"
    fin = f["loan_draw"] - f["principal"] if equity else f["interest"]
    out: Array = (
        ebt
        - tx.income_tax_rate * taxable
        + f["depreciation"]
        - f["capex"]
        + f["proceeds"]
        - f["gain_book"]
        + fin
        + vat_in
    )
    return out


def responses(spec: PlanningSpec) -> Responses:
    h = spec.horizon_months
    n = h + 1
    k_n = len(spec.sku)
    series = np.zeros((k_n, 2, h, len(FIELDS), n))
    active = np.zeros((k_n, h, n))
    date_ok = np.zeros((k_n, h), dtype=bool)
    for k, sku in enumerate(spec.sku):
        sc = engine_scenario(spec, sku)
        date_ok[k] = one_time_eligible(sc, n, 0.0)[:h]
        life = sku.useful_life_months
        for d in range(h):
            end = min(d + life, h)
            at_h = end == h and end == d + life
            running = end == h and not at_h
            book = 1.0 - (1.0 - sku.salvage_pct) * (h - d) / life
            capex = np.zeros(n)
            capex[d] = 1.0
            resale = np.zeros(n)
            resale[d] = sku.resale_pct_of_book * book if running else sku.salvage_pct
            sold = np.zeros(n, dtype=bool)
            sold[d] = at_h
            active[k, d, d + 1 : end + 1] = 1.0
            for flag in (0, 1):
                eligible = np.zeros(n, dtype=bool)
                eligible[d] = bool(flag)
                cs = capex_series(capex, sc, eligible, np.full(n, end), resale, sold)
                series[k, flag, d] = [getattr(cs, name) for name in FIELDS]
    disc = (1.0 + monthly_rate(spec.discount_rate_annual)) ** -np.arange(n, dtype=np.float64)
    lin = _unit_fcf(spec, series) @ disc
    opex_pv = active @ disc
    return Responses(series, active, date_ok, lin, opex_pv, disc)


def revenue_weights(spec: PlanningSpec) -> Array:
    """(H,) after-tax PV of one currency unit of rent (VAT-exclusive) in planning month ``t``:
    discounted as engine month ``t + 1``, less surcharges on its output VAT and income tax."""
    tx = spec.taxes
    h = spec.horizon_months
    keep = (1.0 - tx.surcharge_rate * tx.vat_rate) * (1.0 - tx.income_tax_rate)
    disc = (1.0 + monthly_rate(spec.discount_rate_annual)) ** -np.arange(1, h + 1, dtype=np.float64)
    out: Array = keep * disc
    return out


@dataclass(frozen=True, slots=True)
class _Cell:
    """One order cell (SKU ``k``, month ``m``) in every scenario."""

    k: int
    m: int
    gross: Array  # (S,) VAT-inclusive price of one server ordered
    kept: Array  # (S,) delivered share
    d: NDArray[np.int64]  # (S,) engine delivery month
    inside: NDArray[np.bool_]  # (S,) delivered before the horizon
    flag: NDArray[np.int64]  # (S,) 1 where the one-time deduction applies


def _cell(
    spec: PlanningSpec,
    r: Responses,
    sc: Scenarios,
    prices: Array,
    lag: NDArray[np.int64],
    k: int,
    m: int,
) -> _Cell:
    tx = spec.taxes
    h = spec.horizon_months
    gross = prices[:, k, m] * (1.0 + tx.input_vat_rate)
    d = m + lag[:, k]
    inside = d < h
    dd = np.minimum(d, h - 1)
    unit_cost = gross / (1.0 + tx.input_vat_rate) if tx.credit_input_vat else gross
    flag = (r.date_ok[k, dd] & (unit_cost <= tx.one_time_limit_per_unit)).astype(np.int64)
    return _Cell(k, m, gross, 1.0 - sc.shortfall[:, k], dd, inside, flag)


def linear_costs(spec: PlanningSpec, sc: Scenarios, prices: Array, lag: NDArray[np.int64]) -> Array:
    """(S, K, T) after-tax cost (PV, positive = cost) of ordering one server of SKU ``k`` in
    month ``m``, taxes linear, revenue excluded: what the MILP charges per server.
    ``prices`` (S, K, T) are VAT-exclusive order prices, ``lag`` (S, K) months to arrival."""
    r = responses(spec)
    tau = spec.taxes.income_tax_rate
    out = np.zeros(prices.shape)
    for k, sku in enumerate(spec.sku):
        dep = sku.deposit_pct
        for m in range(spec.decision_months):
            c = _cell(spec, r, sc, prices, lag, k, m)
            asset = c.gross * c.kept
            lost = dep * c.gross * (1.0 - c.kept)
            value = (
                asset * r.lin[k, c.flag, c.d]
                + dep * asset * r.disc[c.d]
                + tau * lost * r.disc[c.d]
                - (1.0 - tau) * c.kept * sku.opex_per_month * r.opex_pv[k, c.d]
            )
            late = tau * dep * c.gross * r.disc[spec.horizon_months]
            value = np.where(c.inside, value, late) - dep * c.gross * r.disc[m]
            out[:, k, m] = -value
    return out


def _series(
    spec: PlanningSpec, sc: Scenarios, orders: Array, prices: Array, lag: NDArray[np.int64]
) -> tuple[Array, Array]:
    """``(capex series (S, F, n), opex (S, n))`` of ``orders`` in every scenario."""
    r = responses(spec)
    n = spec.horizon_months + 1
    s_n = sc.count
    rows = np.arange(s_n)
    total = np.zeros((s_n, len(FIELDS), n))
    opex = np.zeros((s_n, n))
    for k, m in zip(*np.nonzero(orders > 0.5), strict=True):
        count = float(orders[k, m])
        sku = spec.sku[k]
        c = _cell(spec, r, sc, prices, lag, int(k), int(m))
        inside = c.inside.astype(np.float64)
        asset = count * c.gross * c.kept * inside
        deposit = count * sku.deposit_pct * c.gross
        total += asset[:, None, None] * r.series[k, c.flag, c.d]
        total[:, _F["capex"], m] += deposit
        total[rows, _F["capex"], c.d] -= sku.deposit_pct * asset
        lost = np.where(c.inside, deposit * (1.0 - c.kept), 0.0)
        for g in ("gain_book", "gain_tax"):
            total[rows, _F[g], c.d] -= lost
            total[:, _F[g], n - 1] -= np.where(c.inside, 0.0, deposit)
        opex += (count * c.kept * inside * sku.opex_per_month)[:, None] * r.active[k, c.d]
    return total, opex


def engine_npv(
    spec: PlanningSpec,
    sc: Scenarios,
    orders: Array,
    prices: Array,
    lag: NDArray[np.int64],
    revenue: Array,
) -> Array:
    """(S,) the economics engine's NPV of ``orders`` (K, T) in each scenario, on
    ``taxes.cash_flow``; ``revenue`` (S, H) is what the new capacity bills per planning month
    (VAT-exclusive)."""
    tx = spec.taxes
    n = spec.horizon_months + 1
    s, opex = _series(spec, sc, orders, prices, lag)
    fields = {name: s[:, i, :] for name, i in _F.items()}
    prop = CapexSeries(om=opex, **fields)
    earning = np.ones(n)
    earning[0] = 0.0
    plan = Plan(
        kind="bare_metal",
        months=spec.horizon_months,
        discount_monthly=monthly_rate(spec.discount_rate_annual),
        active_prop=earning,
        prop=prop,
        fixed=CapexSeries.zeros(n),
        delivered_fraction=1.0,
        gpus_per_server=0,
        hours_per_month=0.0,
        unit_revenue=1.0,
        pass_through=0.0,
        vat_divisor=1.0,
        power_full=0.0,
        load_factor=0.0,
        idle_load_factor=0.0,
        cabinet_per_server=0.0,
        fixed_monthly=0.0,
        ramp_a=np.zeros(n),
        ramp_b=earning,
        level=1.0,
        ceiling=1.0,
        price_decline_annual=0.0,
        shock_factor=np.ones(n),
        contract_months=1,
        receivable_lag_months=0.0,
        bad_debt_pct=0.0,
        income_tax_rate=tx.income_tax_rate,
        equity_basis=tx.cash_flow == "equity",
        output_vat_rate=tx.vat_rate,
        surcharge_rate=tx.surcharge_rate,
        vat_active=True,
        loss_carryforward_years=tx.loss_carryforward_years,
        tax_differs=not (
            np.array_equal(prop.depreciation, prop.tax_depreciation)
            and np.array_equal(prop.gain_book, prop.gain_tax)
        ),
    )
    price = np.zeros((sc.count, n))
    price[:, 1:] = revenue
    one = np.ones((1, 1))
    flows = project(plan, Draws(level=one, price_factor=price, delivered=one, bad_debt_pct=0 * one))
    out: Array = flows.discounted_cumulative[:, -1]
    return out
