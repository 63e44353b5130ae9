"""Resolution of a :class:`Scenario` into numbers on the monthly grid (a :class:`Plan`).

Owns everything that does not vary between Monte Carlo paths: the delivery schedule turned into
active servers, capex, depreciation, loan draws, interest and principal (all *linear* in the
capex series, so a path's delivery shortfall only scales them), the occupancy ramp shape, the
deterministic market-price path and the unit economics (revenue per server-month at full
occupancy, power per server-month, cabinet fee per server-month).

Grid: index ``t = 0 .. H`` (``H`` = horizon in months). Month 0 carries only capex paid at
signing/delivery; servers delivered in month ``d`` earn and cost from month ``d + 1``.
Capex-derived series come in two parts: ``*_prop`` (proportional to delivered servers) and
``*_fixed`` (the network/installation amount, which does not depend on deliveries).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
from numpy.typing import NDArray

from suanli.core.catalog import default_catalog
from suanli.economics import depreciation as depreciation_kernel
from suanli.economics.scenario import (
    BareMetal,
    CabinetUnit,
    ComputingCenter,
    Investment,
    Scenario,
)

Array = NDArray[np.float64]
DAYS_PER_MONTH = 365.0 / 12.0


@dataclass(frozen=True, slots=True)
class CapexSeries:
    """Series derived from one capex series (all linear in it)."""

    capex: Array
    depreciation: Array
    loan_draw: Array
    interest: Array
    principal: Array
    om: Array
    input_vat: Array  # VAT inside capex credited against output VAT (zero when not credited)
    tax_depreciation: Array  # depreciation deducted for income tax (may differ from book)
    proceeds: Array  # cash from selling retired servers
    gain_book: Array  # proceeds - book value written off (P&L)
    gain_tax: Array  # proceeds - tax base left (taxable)

    @staticmethod
    def zeros(n: int) -> CapexSeries:
        z = np.zeros(n)
        return CapexSeries(z, z, z, z, z, z, z, z, z, z, z)


@dataclass(frozen=True, slots=True)
class Plan:
    """Path-independent numbers of an operating scenario (bare metal or computing center)."""

    kind: str
    months: int
    discount_monthly: float
    active_prop: Array  # active servers per month for the full schedule (fraction 1)
    prop: CapexSeries
    fixed: CapexSeries
    delivered_fraction: float
    gpus_per_server: int
    hours_per_month: float
    unit_revenue: float  # CNY per server-month at occupancy 1 and price factor 1 (as quoted)
    pass_through: float  # CNY per occupied server-month (not subject to price decline)
    vat_divisor: float  # quoted prices / vat_divisor = revenue net of VAT
    power_full: float  # CNY per server-month at load 1.0
    load_factor: float
    idle_load_factor: float
    cabinet_per_server: float
    fixed_monthly: float  # staff + bandwidth + platform, CNY per month from month 1
    ramp_a: Array  # occupancy[t] = ramp_a[t] + level * ramp_b[t]
    ramp_b: Array
    level: float
    ceiling: float
    price_decline_annual: float
    shock_factor: Array  # product of scheduled step shocks in force at t
    contract_months: int
    receivable_lag_months: float
    bad_debt_pct: float
    income_tax_rate: float
    equity_basis: bool
    output_vat_rate: float  # output VAT per CNY of revenue (net of VAT)
    surcharge_rate: float  # surcharges per CNY of VAT paid
    vat_active: bool  # input VAT credited or surcharges charged: the VAT account is modelled
    loss_carryforward_years: int | None  # None: unlimited, monthly; N: annual, N-year expiry
    tax_differs: bool  # tax depreciation differs from book somewhere
    price_series: Array | None = None  # market factor by month (index 0 unused), or None
    price_floor: float | None = None
    contracted_share: float = 0.0
    contracted_months: int = 0


@dataclass(frozen=True, slots=True)
class InvestmentPlan:
    months: int
    discount_monthly: float
    form: Investment
    income_tax_rate: float
    loss_carryforward_years: int | None = None


def monthly_rate(annual: float) -> float:
    """Effective monthly rate of an annual rate: ``(1 + r)^(1/12) - 1`` (compounds to ``r``)."""
    return float((1.0 + annual) ** (1.0 / 12.0) - 1.0)


def loan_monthly_rate(annual: float, convention: str) -> float:
    """Monthly loan rate: ``effective`` as :func:`monthly_rate`, ``nominal`` = ``r / 12``."""
    if convention == "nominal":
        return annual / 12.0
    return monthly_rate(annual)


def one_time_eligible(sc: Scenario, n: int, unit_cost: float) -> NDArray[np.bool_]:
    """Per month of delivery: may a server delivered then take the one-time tax deduction?"""
    dep = sc.depreciation
    ok = np.zeros(n, dtype=bool)
    if dep.tax_method != "one_time" or sc.start_date is None:
        return ok
    if unit_cost > dep.one_time_limit_per_unit:
        return ok
    start = sc.start_date
    for t in range(n):
        months = start.month - 1 + t
        day = date(start.year + months // 12, months % 12 + 1, 1)
        ok[t] = dep.one_time_eligible_from <= day <= dep.one_time_eligible_until
    return ok


def capex_series(
    capex: Array,
    sc: Scenario,
    one_time: NDArray[np.bool_] | None = None,
    retire: NDArray[np.int_] | None = None,
    resale: Array | None = None,
    sold_at_horizon: NDArray[np.bool_] | None = None,
) -> CapexSeries:
    """Depreciation, disposal, loan and O&M series of a capex series on the grid (all linear
    in capex). ``one_time`` marks capex months whose capex takes the one-time tax deduction;
    ``retire[d]`` is the month the capex of month ``d`` leaves service (sold for ``resale[d]``);
    without ``retire`` nothing is retired or sold (the network/installation amount). Capex
    still in service at the horizon (``sold_at_horizon`` false) is valued at ``resale`` as
    terminal cash with no entry in the P&L."""
    n = capex.size
    dep = sc.depreciation
    life = max(1, round(dep.years * 12))
    taxes = sc.taxes
    vat_share = (
        taxes.input_vat_rate / (1.0 + taxes.input_vat_rate) if taxes.credit_input_vat else 0.0
    )
    cost = capex * (1.0 - vat_share)  # the asset's cost: VAT-exclusive when VAT is credited
    book_k = depreciation_kernel.kernel(dep.method, life, dep.salvage_pct)
    tax_method = dep.tax_method or dep.method
    tax_life = max(1, round((dep.tax_years or dep.years) * 12))
    base_method = "straight_line" if tax_method == "one_time" else tax_method
    tax_k = depreciation_kernel.kernel(base_method, tax_life, dep.salvage_pct)
    eligible = one_time if one_time is not None else np.zeros(n, dtype=bool)
    if sold_at_horizon is None:
        sold_at_horizon = np.zeros(n, dtype=bool)
    depreciation = np.zeros(n)
    tax_depreciation = np.zeros(n)
    installed = np.zeros(n)  # capex in service in month t
    proceeds = np.zeros(n)
    gain_book = np.zeros(n)
    gain_tax = np.zeros(n)
    for d in np.flatnonzero(capex):
        end = n - 1 if retire is None else int(retire[d])
        one = np.zeros(n)
        one[d] = cost[d]
        book = depreciation_kernel.apply(one, book_k)
        tax = depreciation_kernel.apply(one, np.ones(1) if eligible[d] else tax_k)
        book[end + 1 :] = 0.0
        tax[end + 1 :] = 0.0
        depreciation += book
        tax_depreciation += tax
        installed[d + 1 : end + 1] += capex[d]
        if retire is not None and resale is not None:
            proceeds[end] += resale[d]
            if end < n - 1 or sold_at_horizon[d]:  # retired: the book value is written off
                gain_book[end] += resale[d] - (cost[d] - book.sum())
                gain_tax[end] += resale[d] - (cost[d] - tax.sum())
    om = installed * sc.opex.om_pct_capex_annual / 12.0

    fin = sc.financing
    draw = capex * fin.loan_share
    slb = fin.sale_leaseback_month
    if slb is not None and slb < n:  # sale-leaseback: what was paid so far is financed at slb
        moved = draw[: slb + 1].sum()
        draw = draw.copy()
        draw[: slb + 1] = 0.0
        draw[slb] = moved
    r = loan_monthly_rate(fin.rate_annual, fin.rate_convention) if fin.rate_annual > 0 else 0.0
    term = fin.term_months
    k = np.arange(1, term + 1, dtype=np.float64)
    if r > 0:
        payment = r / (1.0 - (1.0 + r) ** -term)
        balance_before = (1.0 + r) ** (k - 1) - payment * ((1.0 + r) ** (k - 1) - 1.0) / r
    else:
        payment = 1.0 / term
        balance_before = 1.0 - payment * (k - 1)
    grace = fin.grace_months
    int_kernel = np.concatenate(([fin.upfront_fee_pct], np.full(grace, r), r * balance_before))
    pri_kernel = np.concatenate(([0.0], np.zeros(grace), payment - r * balance_before))
    interest = np.convolve(draw, int_kernel)[:n]
    principal = np.convolve(draw, pri_kernel)[:n]
    principal[-1] += draw.sum() - principal.sum()  # balloon: repay what is left at the horizon
    # finance lease: the financed share's VAT is invoiced, and credited, with each repayment
    credited = capex - draw + principal if fin.finance_lease else capex
    return CapexSeries(
        capex,
        depreciation,
        draw,
        interest,
        principal,
        om,
        credited * vat_share,
        tax_depreciation,
        proceeds,
        gain_book,
        gain_tax,
    )


Segment = tuple[int, int, float, int]  # (bought in month, leaves in month, units, first delivery)


def _lifecycle(
    sc: Scenario, n: int
) -> tuple[Array, Array, NDArray[np.int_], NDArray[np.bool_], list[Segment]]:
    """``(server capex, active servers, leaving month, retired at the horizon, segments)`` per
    month of the full schedule (a batch that reaches its life or ``retire_month`` exactly at
    the horizon is retired there; one merely still running is not). Each segment is one batch
    in service: a replacement keeps its original batch's first delivery month (its customers).

    A batch bought in month ``d`` earns in months ``d+1 .. e`` and is sold in month ``e`` =
    min(d + useful life, retire_month, H); with ``end_of_life.replace`` a batch retired at its
    useful life before the horizon is bought again in month ``e`` at the replacement price."""
    fleet = sc.fleet
    assert fleet is not None
    eol = sc.end_of_life
    life = max(1, round((eol.useful_life_years or sc.depreciation.years) * 12))
    stop = min(eol.retire_month or n - 1, n - 1)
    capex = np.zeros(n)
    count = np.zeros(n)
    retired = np.zeros(n)
    retire = np.full(n, n - 1, dtype=np.int_)
    retired_at_h = np.zeros(n, dtype=bool)
    batches = [(d.month, float(d.count), fleet.unit_price, d.month) for d in fleet.schedule()]
    segments: list[Segment] = []
    while batches:
        month, units, price, origin = batches.pop()
        if month >= stop:
            continue
        end = min(month + life, stop)
        segments.append((month, end, units, origin))
        capex[month] += units * price
        count[month] += units
        retired[end] += units
        retire[month] = end
        retired_at_h[month] = end == n - 1 and (end == month + life or end == eol.retire_month)
        if eol.replace and end == month + life and end < stop:
            batches.append((end, units, fleet.unit_price * eol.replacement_price_pct, origin))
    active = np.concatenate(([0.0], np.cumsum(count - retired)[:-1]))
    return capex, active, retire, retired_at_h, segments


def _ramp(form: BareMetal | ComputingCenter, n: int, origin: int) -> tuple[Array, Array]:
    """``(a, b)``: occupancy ``a + level * b`` by month of servers first delivered in month
    ``origin``: from ``initial_occupancy`` in month ``origin + 1`` linearly to the level over
    ``ramp_months`` (at the level at once with no ramp); 0 up to ``origin``."""
    k = np.arange(n, dtype=np.float64) - origin
    w = np.minimum(1.0, k / form.ramp_months) if form.ramp_months > 0 else np.ones(n)
    w[k <= 0] = 0.0
    a = form.initial_occupancy * (1.0 - w)
    a[k <= 0] = 0.0
    return a, w


def _fleet_ramp(
    form: BareMetal | ComputingCenter, n: int, active: Array, segments: list[Segment]
) -> tuple[Array, Array]:
    """The occupancy ramp of the whole fleet, ``(a, b)`` with occupancy ``a + level * b``.

    Without ``ramp_per_batch`` one ramp runs from month 0 of the horizon. With it each batch
    ramps from its own first delivery and the fleet's occupancy is the active-weighted mean:
    ``sum_k units_k * ramp_k(t) / active(t)`` over the batches in service in month ``t``. Where
    nothing is in service the month-0 ramp is kept (it multiplies zero servers)."""
    a0, b0 = _ramp(form, n, 0)
    if not form.ramp_per_batch:
        return a0, b0
    num_a = np.zeros(n)
    num_b = np.zeros(n)
    for start, end, units, origin in segments:
        a, b = _ramp(form, n, origin)
        num_a[start + 1 : end + 1] += units * a[start + 1 : end + 1]
        num_b[start + 1 : end + 1] += units * b[start + 1 : end + 1]
    live = active > 0
    safe = np.where(live, active, 1.0)
    return np.where(live, num_a / safe, a0), np.where(live, num_b / safe, b0)


def _price_series(values: list[float] | None, n: int) -> Array | None:
    if values is None or not values:
        return None
    out = np.full(n, values[-1])
    out[0] = 1.0
    k = min(len(values), n - 1)
    out[1 : k + 1] = values[:k]
    return out


def _price_shocks(sc: Scenario, n: int) -> Array:
    factor = np.ones(n)
    form = sc.form
    assert not isinstance(form, Investment)
    for shock in form.price_shocks:
        if shock.month < n:
            factor[shock.month :] *= 1.0 + shock.pct
    return factor


def build_plan(sc: Scenario) -> Plan:
    """Resolve an operating scenario (``bare_metal`` or ``computing_center``)."""
    form = sc.form
    fleet = sc.fleet
    if isinstance(form, Investment) or fleet is None:
        raise TypeError("build_plan needs an operating scenario; use build_investment_plan")
    sku = default_catalog().sku(fleet.sku)
    n = sc.horizon_months + 1
    server_capex, active, retire, retired_at_h, segments = _lifecycle(sc, n)
    unit_cost = fleet.unit_price * (
        1.0 / (1.0 + sc.taxes.input_vat_rate) if sc.taxes.credit_input_vat else 1.0
    )
    prop = capex_series(
        server_capex * (1.0 + sc.capex.network_install_pct),
        sc,
        one_time_eligible(sc, n, unit_cost),
        retire,
        server_capex * sc.depreciation.resale_pct(),
        retired_at_h,
    )
    fixed_capex = np.zeros(n)
    fixed_capex[0] = sc.capex.network_install_amount
    fixed = capex_series(fixed_capex, sc) if fixed_capex[0] > 0 else CapexSeries.zeros(n)

    ramp_a, w = _fleet_ramp(form, n, active, segments)

    if isinstance(form, BareMetal):
        unit_revenue = form.rent_per_server_month
        pass_through = form.pass_through_per_server_month
        platform = 0.0
    else:
        assert isinstance(form, ComputingCenter)
        unit_revenue = form.gpu_hour_price * sku.gpus * sc.opex.hours_per_month
        pass_through = 0.0
        platform = form.platform_cost_per_month + form.platform_staff_per_month

    opex = sc.opex
    cabinet = {
        CabinetUnit.SERVER_MONTH: opex.cabinet_fee,
        CabinetUnit.CABINET_MONTH: opex.cabinet_fee / opex.servers_per_cabinet,
        CabinetUnit.KW_MONTH: opex.cabinet_fee * sku.nameplate_kw,
    }[opex.cabinet_fee_unit]
    return Plan(
        kind=form.kind,
        months=sc.horizon_months,
        discount_monthly=monthly_rate(sc.discount_rate_annual),
        active_prop=active,
        prop=prop,
        fixed=fixed,
        delivered_fraction=fleet.delivered_fraction,
        gpus_per_server=sku.gpus,
        hours_per_month=opex.hours_per_month,
        unit_revenue=unit_revenue,
        pass_through=pass_through,
        vat_divisor=1.0 + sc.taxes.vat_rate if sc.taxes.prices_include_vat else 1.0,
        power_full=sku.nameplate_kw * opex.pue * opex.hours_per_month * opex.power_price_kwh,
        load_factor=opex.load_factor,
        idle_load_factor=opex.idle_load_factor,
        cabinet_per_server=cabinet,
        fixed_monthly=opex.staff_per_month + opex.bandwidth_per_month + platform,
        ramp_a=ramp_a,
        ramp_b=w,
        level=form.level(),
        ceiling=form.ceiling(),
        price_decline_annual=form.price_decline_annual,
        shock_factor=_price_shocks(sc, n),
        contract_months=form.contract_months,
        receivable_lag_months=form.receivable_days / DAYS_PER_MONTH,
        bad_debt_pct=form.bad_debt_pct,
        income_tax_rate=sc.taxes.income_tax_rate,
        equity_basis=sc.cash_flow_basis == "equity",
        output_vat_rate=sc.taxes.vat_rate,
        surcharge_rate=sc.taxes.surcharge_rate,
        vat_active=sc.taxes.credit_input_vat or sc.taxes.surcharge_rate > 0,
        loss_carryforward_years=sc.taxes.loss_carryforward_years,
        price_series=_price_series(form.price_series, n),
        price_floor=form.price_floor,
        contracted_share=form.contracted_share,
        contracted_months=form.contracted_months,
        tax_differs=not (
            np.array_equal(prop.depreciation, prop.tax_depreciation)
            and np.array_equal(fixed.depreciation, fixed.tax_depreciation)
            and np.array_equal(prop.gain_book, prop.gain_tax)
        ),
    )


def build_investment_plan(sc: Scenario) -> InvestmentPlan:
    if not isinstance(sc.form, Investment):
        raise TypeError("build_investment_plan needs form.kind = 'investment'")
    return InvestmentPlan(
        months=sc.horizon_months,
        discount_monthly=monthly_rate(sc.discount_rate_annual),
        form=sc.form,
        income_tax_rate=sc.taxes.income_tax_rate,
        loss_carryforward_years=sc.taxes.loss_carryforward_years,
    )
