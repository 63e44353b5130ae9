"""The monthly cash-flow table, vectorised over months *and* Monte Carlo paths.

Owns :func:`project` (operating forms) and :func:`project_investment`. Every column is a float
array of shape ``(paths, H + 1)``; a deterministic evaluation is the one-path case, so the
deterministic engine and the Monte Carlo engine are the same code.

Columns (CNY per month): ``revenue`` (net of VAT), cost lines ``power``, ``cabinet``, ``om``,
``fixed`` (staff, bandwidth, platform), ``bad_debt``; ``ebitda``; ``depreciation``;
``interest``; ``disposal`` (gain or loss on selling retired servers: resale proceeds minus
the book value written off); ``surcharges`` (on VAT paid); ``tax`` (book income-tax expense, including
deferred tax); ``net_income``; ``tax_paid`` (cash income tax: unlimited loss carry-forward
monthly, or annual with an N-year expiry); ``vat_paid`` (output VAT minus the
input VAT credited, carried forward);
``capex``; ``financing`` (loan draws minus principal repaid); ``fcf`` (free cash flow on the
scenario's ``cash_flow_basis``: *project* = collections minus cash costs, tax and capex, plus
resale at the horizon; *equity* = project minus interest plus ``financing``); ``cumulative``
and ``discounted_cumulative`` of ``fcf``.

Simplifications (documented in docs/economics.md): output VAT is due and collected in the month
billed; without ``credit_input_vat`` VAT is collected and remitted (cash-neutral); receivables are collected
``receivable_days`` later, all outstanding receivables at the horizon; servers are sold when
retired (useful life, chosen month or the horizon), the gain or loss in the P&L.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from suanli.economics.plan import Array, InvestmentPlan, Plan

COLUMNS = (
    "revenue",
    "power",
    "cabinet",
    "om",
    "fixed",
    "bad_debt",
    "ebitda",
    "depreciation",
    "interest",
    "disposal",
    "surcharges",
    "tax",
    "net_income",
    "tax_paid",
    "vat_paid",
    "capex",
    "financing",
    "fcf",
    "cumulative",
    "discounted_cumulative",
)
COST_OF_REVENUE = ("power", "cabinet", "om", "depreciation")


@dataclass(frozen=True, slots=True)
class Draws:
    """Per-path inputs; each is an array broadcastable to ``(paths, 1)`` or ``(paths, H + 1)``."""

    level: Array  # steady occupancy / utilization, (P, 1)
    price_factor: Array  # market price factor, (P, H+1) or (1, H+1)
    delivered: Array  # delivered share of the schedule, (P, 1)
    bad_debt_pct: Array  # (P, 1)

    @property
    def paths(self) -> int:
        return int(max(self.level.shape[0], self.price_factor.shape[0], self.delivered.shape[0]))


@dataclass(frozen=True, slots=True)
class CashFlows:
    """The table: one ``(paths, H + 1)`` array per column, plus what metrics need."""

    revenue: Array
    power: Array
    cabinet: Array
    om: Array
    fixed: Array
    bad_debt: Array
    ebitda: Array
    depreciation: Array
    interest: Array
    disposal: Array  # gain (+) or loss (-) on selling retired servers: proceeds - book value
    surcharges: Array
    tax: Array  # book income-tax expense (cash tax + deferred tax)
    net_income: Array
    tax_paid: Array  # income tax paid in cash
    vat_paid: Array
    capex: Array
    financing: Array
    fcf: Array
    cumulative: Array
    discounted_cumulative: Array
    gpu_hours: Array  # available GPU-hours per month
    sold_gpu_hours: Array

    def column(self, name: str) -> Array:
        value: Array = getattr(self, name)
        return value

    def path(self, i: int) -> dict[str, NDArray[np.float64]]:
        return {c: self.column(c)[min(i, self.column(c).shape[0] - 1)] for c in COLUMNS}


def market_price(plan: Plan, decline_annual: Array) -> Array:
    """Market price factor ``(1 - decline)^(t/12)`` times scheduled shocks; shape (P, H+1)."""
    if plan.price_series is not None:  # an input series replaces the decline
        series: Array = np.broadcast_to(
            plan.price_series * plan.shock_factor, (np.shape(decline_annual)[0], plan.months + 1)
        ).copy()
        return series
    t = np.arange(plan.months + 1, dtype=np.float64) / 12.0
    log_keep = np.log1p(-np.minimum(decline_annual, 1.0 - 1e-12))
    factor: Array = np.exp(log_keep * t) * plan.shock_factor
    return factor


def deterministic_draws(plan: Plan) -> Draws:
    one = np.ones((1, 1))
    return Draws(
        level=one * plan.level,
        price_factor=market_price(plan, one * plan.price_decline_annual),
        delivered=one * plan.delivered_fraction,
        bad_debt_pct=one * plan.bad_debt_pct,
    )


def contract_price(plan: Plan, market: Array) -> Array:
    """Average price of the contracts in force: 1/L of them re-price each month (staggered);
    the market factor is floored at ``price_floor``; ``contracted_share`` stays at the starting
    price (1) for ``contracted_months``."""
    length = plan.contract_months
    m = market.copy() if plan.price_floor is None else np.maximum(market, plan.price_floor)
    m[:, 0] = 0.0
    if plan.contracted_share > 0.0 and plan.contracted_months > 0:
        spot = _staggered(m, length)
        k = min(plan.contracted_months, m.shape[1] - 1)
        s = plan.contracted_share
        spot[:, 1 : k + 1] = s + (1.0 - s) * spot[:, 1 : k + 1]
        return spot
    return _staggered(m, length)


def _staggered(m: Array, length: int) -> Array:
    if length == 1:
        return m.copy()
    cum = np.cumsum(m, axis=1)
    lagged = np.zeros_like(cum)
    lagged[:, length:] = cum[:, :-length]
    t = np.arange(m.shape[1], dtype=np.float64)
    count = np.maximum(np.minimum(t, length), 1.0)
    out: Array = (cum - lagged) / count
    return out


def lag(x: Array, months: float) -> Array:
    """``x`` delayed by a fractional number of months (linear split between two months)."""
    k = int(np.floor(months))
    f = months - k
    out = np.zeros_like(x)
    n = x.shape[1]
    if k < n:
        out[:, k:] += (1.0 - f) * x[:, : n - k]
    if f > 0 and k + 1 < n:
        out[:, k + 1 :] += f * x[:, : n - k - 1]
    return out


def _carried(flow: Array) -> Array:
    """Amount paid each month on a running balance that carries credits forward and is never
    refunded: cumulative paid = running max of the cumulative flow, floored at zero."""
    base = np.maximum.accumulate(np.maximum(np.cumsum(flow, axis=1), 0.0), axis=1)
    paid: Array = np.diff(base, axis=1, prepend=0.0)
    return paid


def income_tax(taxable: Array, rate: float, carry_years: int | None) -> tuple[Array, Array]:
    """``(cash tax, forfeited losses)`` per month of a monthly taxable-income series ``(P, n)``.

    ``carry_years=None``: monthly tax with unlimited loss carry-forward (cumulative taxed base
    = running max of cumulative profit); nothing is forfeited. Otherwise annual settlement:
    fiscal year ``k`` covers months ``12(k-1)+1 .. 12k`` (year 1 also month 0; the last year
    may be partial), its tax is paid in its last month, and a year's loss offsets the next
    ``carry_years`` years' profits, oldest loss first; what is unused then expires (forfeited
    in the last month of its last usable year), and so does every loss left at the horizon (no
    refund). Loops over years (<= 50) and vintages, vectorised over paths."""
    if carry_years is None:
        return _carried(taxable) * rate, np.zeros_like(taxable)
    n = taxable.shape[1]
    starts = np.concatenate(([0], np.arange(13, n, 12)))
    ends = np.concatenate((starts[1:] - 1, [n - 1]))
    profit = np.add.reduceat(taxable, starts, axis=1)
    years = starts.size
    losses = np.zeros_like(profit)  # unused loss by vintage
    tax = np.zeros_like(taxable)
    forfeited = np.zeros_like(taxable)
    for y in range(years):
        remaining = np.maximum(profit[:, y], 0.0)
        for v in range(max(0, y - carry_years), y):
            use = np.minimum(losses[:, v], remaining)
            losses[:, v] -= use
            remaining -= use
        losses[:, y] = np.maximum(-profit[:, y], 0.0)
        tax[:, ends[y]] = remaining * rate
        if y >= carry_years:  # the loss of year y - N had its last chance this year
            forfeited[:, ends[y]] += losses[:, y - carry_years]
            losses[:, y - carry_years] = 0.0
    forfeited[:, -1] += losses.sum(axis=1)  # left at the horizon: never refunded
    return tax, forfeited


def after_tax(ebt: Array, rate: float, carry_years: int | None = None) -> tuple[Array, Array]:
    """``(cash tax, net income)`` when book and taxable income coincide; see :func:`tax_lines`."""
    cash, expense = tax_lines(ebt, ebt, rate, carry_years)
    return cash, ebt - expense


def tax_lines(
    ebt: Array, taxable: Array, rate: float, carry_years: int | None
) -> tuple[Array, Array]:
    """``(cash tax, book income-tax expense)``.

    Book expense = cash tax + change in deferred tax. Deferred tax liability = rate x
    cumulative (tax - book depreciation), i.e. rate x (book EBT - taxable income); with annual
    settlement a deferred tax asset is recognised on unused losses and written off when they
    expire or at the horizon, so the expense is ``rate x (book EBT + forfeited losses)``.
    Unlimited monthly mode (``carry_years=None``) keeps the legacy cash basis for losses:
    expense = cash tax + rate x (book EBT - taxable)."""
    cash, forfeited = income_tax(taxable, rate, carry_years)
    if carry_years is None:
        expense: Array = cash + rate * (ebt - taxable) if taxable is not ebt else cash
    else:
        expense = rate * (ebt + forfeited)
    return cash, expense


def vat_paid(output_vat: Array, input_vat: Array) -> Array:
    """VAT paid each month: output VAT minus input VAT credited, an uncredited balance carried
    forward (never refunded)."""
    return _carried(output_vat - input_vat)


def _discount(fcf: Array, monthly: float) -> Array:
    factors = (1.0 + monthly) ** -np.arange(fcf.shape[1], dtype=np.float64)
    out: Array = np.cumsum(fcf * factors, axis=1)
    return out


def project(plan: Plan, draws: Draws) -> CashFlows:
    """The cash-flow table of ``plan`` under ``draws`` (all paths at once)."""
    delivered = draws.delivered
    active = plan.active_prop * delivered  # (P, n)
    occupancy = np.minimum(plan.ramp_a + draws.level * plan.ramp_b, plan.ceiling)
    occupied = active * occupancy
    price = contract_price(plan, draws.price_factor)
    revenue = occupied * (price * plan.unit_revenue + plan.pass_through) / plan.vat_divisor

    power = plan.power_full * (
        active * plan.idle_load_factor + occupied * (plan.load_factor - plan.idle_load_factor)
    )
    cabinet = active * plan.cabinet_per_server
    om = plan.prop.om * delivered + plan.fixed.om
    fixed = np.full((1, plan.months + 1), plan.fixed_monthly)
    fixed[:, 0] = 0.0
    bad_debt = revenue * draws.bad_debt_pct
    ebitda = revenue - power - cabinet - om - fixed - bad_debt
    depreciation = plan.prop.depreciation * delivered + plan.fixed.depreciation
    interest = plan.prop.interest * delivered + plan.fixed.interest
    output_vat = revenue * plan.output_vat_rate
    paid = vat_paid(output_vat, plan.prop.input_vat * delivered + plan.fixed.input_vat)
    surcharges = paid * plan.surcharge_rate
    gain = plan.prop.gain_book * delivered
    ebt = ebitda - depreciation - interest - surcharges + gain
    taxable = ebt
    if plan.tax_differs:
        taxable = (
            ebt
            + depreciation
            - gain
            + plan.prop.gain_tax * delivered
            - (plan.prop.tax_depreciation * delivered + plan.fixed.tax_depreciation)
        )
    cash_tax, tax = tax_lines(ebt, taxable, plan.income_tax_rate, plan.loss_carryforward_years)
    net_income = ebt - tax

    billed = revenue - bad_debt
    collected = lag(billed, plan.receivable_lag_months)
    collected[:, -1] += billed.sum(axis=1) - collected.sum(axis=1)
    capex = plan.prop.capex * delivered + plan.fixed.capex
    financing = (plan.prop.loan_draw - plan.prop.principal) * delivered + (
        plan.fixed.loan_draw - plan.fixed.principal
    )
    fcf = ebt - cash_tax + depreciation + (collected - billed) - capex + (output_vat - paid)
    fcf += plan.prop.proceeds * delivered - gain  # disposal: cash in, the gain is in EBT
    fcf = fcf + (financing if plan.equity_basis else interest)
    gpu_hours = active * (plan.gpus_per_server * plan.hours_per_month)
    return CashFlows(
        revenue=revenue,
        power=power,
        cabinet=np.broadcast_to(cabinet, revenue.shape),
        om=np.broadcast_to(om, revenue.shape),
        fixed=np.broadcast_to(fixed, revenue.shape),
        bad_debt=bad_debt,
        ebitda=ebitda,
        depreciation=np.broadcast_to(depreciation, revenue.shape),
        interest=np.broadcast_to(interest, revenue.shape),
        disposal=gain,
        surcharges=surcharges,
        tax=tax,
        net_income=net_income,
        tax_paid=cash_tax,
        vat_paid=paid,
        capex=np.broadcast_to(capex, revenue.shape),
        financing=np.broadcast_to(financing, revenue.shape),
        fcf=fcf,
        cumulative=np.cumsum(fcf, axis=1),
        discounted_cumulative=_discount(fcf, plan.discount_monthly),
        gpu_hours=np.broadcast_to(gpu_hours, revenue.shape),
        sold_gpu_hours=occupied * (plan.gpus_per_server * plan.hours_per_month),
    )


def project_cash(plan: Plan, draws: Draws) -> tuple[Array, Array]:
    """``(fcf, net_income)`` of :func:`project` with fewer passes over memory: the lines that
    are linear in the delivered share are folded into two vectors first. The Monte Carlo hot
    path; tests check it equals :func:`project` on the same draws."""
    delivered = draws.delivered
    p, f = plan.prop, plan.fixed
    fixed = np.full(plan.months + 1, plan.fixed_monthly)
    fixed[0] = 0.0
    # EBT = revenue - bad debt - variable power - (costs linear in delivered share)
    lin_prop = plan.active_prop * (
        plan.power_full * plan.idle_load_factor + plan.cabinet_per_server
    )
    lin_prop = lin_prop + p.om + p.depreciation + p.interest - p.gain_book
    lin_fixed = fixed + f.om + f.depreciation + f.interest
    occupied = np.minimum(plan.ramp_a + draws.level * plan.ramp_b, plan.ceiling)
    occupied *= plan.active_prop
    occupied *= delivered
    price = contract_price(plan, draws.price_factor)
    price *= plan.unit_revenue / plan.vat_divisor
    price += plan.pass_through / plan.vat_divisor
    billed = occupied * price
    vat_cash: Array | None = None
    if plan.vat_active:
        output_vat = billed * plan.output_vat_rate
        paid = vat_paid(output_vat, plan.prop.input_vat * delivered + plan.fixed.input_vat)
        vat_cash = output_vat - paid  # surcharges leave through net income
    billed *= 1.0 - draws.bad_debt_pct
    ebt = billed - occupied * (plan.power_full * (plan.load_factor - plan.idle_load_factor))
    ebt -= delivered * lin_prop
    ebt -= lin_fixed
    if vat_cash is not None:
        ebt -= paid * plan.surcharge_rate
    taxable = ebt
    if plan.tax_differs:
        taxable = ebt + delivered * (p.depreciation - p.tax_depreciation + p.gain_tax - p.gain_book)
        taxable += f.depreciation - f.tax_depreciation
    cash_tax, tax = tax_lines(ebt, taxable, plan.income_tax_rate, plan.loss_carryforward_years)
    net_income = ebt - tax
    # FCF = NI + depreciation + (collected - billed) - capex + (interest | financing)
    if plan.equity_basis:
        cash_prop = p.depreciation - p.capex + p.loan_draw - p.principal + p.proceeds - p.gain_book
        cash_fixed = f.depreciation - f.capex + f.loan_draw - f.principal
    else:
        cash_prop = p.depreciation - p.capex + p.interest + p.proceeds - p.gain_book
        cash_fixed = f.depreciation - f.capex + f.interest
    collected = lag(billed, plan.receivable_lag_months)
    collected[:, -1] += billed.sum(axis=1) - collected.sum(axis=1)
    fcf = ebt - cash_tax
    fcf += collected
    fcf -= billed
    fcf += delivered * cash_prop
    fcf += cash_fixed
    if vat_cash is not None:
        fcf += vat_cash
    return fcf, net_income


def discounted_cumulative(fcf: Array, monthly: float) -> Array:
    return _discount(fcf, monthly)


def project_investment(plan: InvestmentPlan, shortfall: Array) -> CashFlows:
    """Cash flows of an investment; ``shortfall`` (P, years) is the fraction of the committed
    profit missed each year (deterministic: the expected value ``p * pct``)."""
    form = plan.form
    n = plan.months + 1
    paths = shortfall.shape[0]
    year_ends = np.arange(12, n, 12)
    years = year_ends.size
    sf = shortfall[:, :years]
    actual = form.committed_profit_annual * (1.0 - sf)
    dividends = form.payout_ratio * form.stake * actual
    compensation = form.compensation_recovery * form.stake * (form.committed_profit_annual - actual)
    revenue = np.zeros((paths, n))
    revenue[:, year_ends] = dividends + compensation
    taxable = np.zeros((paths, n))
    taxable[:, year_ends] = compensation + (dividends if form.dividends_taxable else 0.0)
    realised = 1.0 - (sf.mean(axis=1) if years else np.zeros(paths))
    exit_cash = form.exit_value * realised
    gain = np.zeros((paths, n))
    gain[:, -1] = exit_cash - form.amount
    tax, expense = tax_lines(
        taxable + gain, taxable + gain, plan.income_tax_rate, plan.loss_carryforward_years
    )
    net_income = revenue + gain - expense
    capex = np.zeros((paths, n))
    capex[:, 0] = form.amount
    fcf = revenue - tax - capex
    fcf[:, -1] += exit_cash
    zeros = np.zeros((paths, n))
    return CashFlows(
        revenue=revenue,
        power=zeros,
        cabinet=zeros,
        om=zeros,
        fixed=zeros,
        bad_debt=zeros,
        ebitda=revenue,
        depreciation=zeros,
        interest=zeros,
        disposal=zeros,
        surcharges=zeros,
        tax=expense,
        net_income=net_income,
        tax_paid=tax,
        vat_paid=zeros,
        capex=capex,
        financing=zeros,
        fcf=fcf,
        cumulative=np.cumsum(fcf, axis=1),
        discounted_cumulative=_discount(fcf, plan.discount_monthly),
        gpu_hours=zeros,
        sold_gpu_hours=zeros,
    )
