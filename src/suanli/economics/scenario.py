"""The scenario: every assumption of one economics case, validated (pydantic v2).

Owns the schema of scenario files (TOML/YAML) and of the economics API bodies. A scenario is a
fleet (a catalog SKU, count, unit price, delivery schedule that may fall short), capex extras,
financing, opex, taxes, depreciation, horizon and discount rate, plus exactly one business form
(``form.kind``): ``bare_metal`` leasing, ``computing_center`` (GPU-hour metering) or
``investment`` with a performance commitment. An optional ``montecarlo`` section gives the
distributions of the uncertain inputs.

Units are explicit in field names: amounts in ``currency`` (default CNY), rates as fractions
(0.13 = 13 %), ``*_annual`` per year, ``*_months`` in months, power in kW, energy in kWh.
Projections are floats (DESIGN.md: floats are fine for projections, never for the ledger).

Invariants checked here, each failure naming its field: prices and amounts >= 0, occupancy and
other fractions in [0, 1], the SKU exists in the catalog, horizon >= 1 month, delivery months
inside the horizon, target occupancy not above the form's ceiling.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from suanli.core.catalog import default_catalog
from suanli.core.errors import NotFoundError

NonNeg = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
HOURS_PER_MONTH = 730.0  # 8,760 h / 12
DEFAULT_CORRELATION = 0.5  # price/occupancy (and planning growth/price): docs/economics.md


class _Model(BaseModel):
    # inf/NaN (JSON ``1e309``, TOML ``inf``) would turn every cash flow into NaN: refused here
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_negative_zero(cls, value: Any) -> Any:
        # -0.0 passes ``low <= high`` against 0.0 but numpy's samplers see ``high - low < 0``
        return value + 0.0 if isinstance(value, float) and value == 0.0 else value


class Delivery(_Model):
    month: Annotated[int, Field(ge=0)]
    count: Annotated[int, Field(ge=0)]


class Fleet(_Model):
    """Servers bought. ``delivery`` defaults to the whole ``count`` at month 0."""

    sku: str
    count: Annotated[int, Field(ge=1)]
    unit_price: NonNeg
    delivery: list[Delivery] | None = None
    delivered_fraction: Fraction = 1.0  # share of each scheduled batch that actually arrives

    @field_validator("sku")
    @classmethod
    def _known_sku(cls, value: str) -> str:
        try:
            default_catalog().sku(value)
        except NotFoundError as exc:
            raise ValueError(f"{exc.message}; expected {exc.fields.get('sku')}") from None
        return value

    @model_validator(mode="after")
    def _schedule_matches_count(self) -> Fleet:
        if self.delivery is not None and sum(d.count for d in self.delivery) != self.count:
            raise ValueError("delivery counts must add up to fleet.count")
        return self

    def schedule(self) -> list[Delivery]:
        return self.delivery if self.delivery is not None else [Delivery(month=0, count=self.count)]


class Capex(_Model):
    """Network and installation on top of the servers: a share of server capex and/or an amount."""

    network_install_pct: NonNeg = 0.0
    network_install_amount: NonNeg = 0.0  # paid at month 0


class Financing(_Model):
    """Share of capex financed by an amortising (annuity) loan drawn at each delivery.

    ``rate_convention`` says how ``rate_annual`` becomes a monthly rate: ``effective`` (the
    default, and the only behaviour before it was selectable) compounds to the annual rate,
    ``(1 + r)^(1/12) - 1``; ``nominal`` is the quoted APR divided by 12, ``r / 12``, as Chinese
    bank loan contracts (LPR-based) usually state it.
    """

    loan_share: Fraction = 0.0
    rate_annual: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    term_months: Annotated[int, Field(ge=1, le=600)] = 60
    rate_convention: Literal["effective", "nominal"] = "effective"
    # interest-only months after each draw, before the annuity over term_months starts
    grace_months: Annotated[int, Field(ge=0, le=120)] = 0
    upfront_fee_pct: Fraction = 0.0  # arrangement fee, % of each draw, paid and expensed at it
    # Sale-leaseback: instead of borrowing at each delivery, the servers paid for up to this
    # month are sold to a lessor for loan_share of their cost and leased back (an annuity at
    # rate_annual over term_months). Accounted as a financing (the servers stay on the books,
    # Chinese practice when control does not pass), so it is the loan drawn late.
    sale_leaseback_month: Annotated[int, Field(ge=0)] | None = None
    # finance lease (direct lease, lessee side): the lessor buys the servers and invoices VAT
    # on each lease payment, so the input VAT of the financed share is credited as its
    # principal is repaid instead of at delivery; otherwise the lease is accounted as the
    # loan (right-of-use asset depreciated, interest and the handling fee upfront_fee_pct
    # deductible). Not combinable with sale_leaseback_month (a leaseback sells servers whose
    # VAT was already credited).
    finance_lease: bool = False
    dscr_min: Annotated[float, Field(gt=0.0)] | None = None  # covenant: trailing-12 DSCR floor
    leverage_max: Annotated[float, Field(gt=0.0)] | None = None  # covenant: debt / EBITDA cap


class CabinetUnit(StrEnum):
    SERVER_MONTH = "server_month"
    CABINET_MONTH = "cabinet_month"
    KW_MONTH = "kw_month"


class Opex(_Model):
    """Running costs. Power = kW x load x PUE x hours x price; idle servers draw ``idle_load_factor``."""

    power_price_kwh: NonNeg = 0.5
    pue: Annotated[float, Field(ge=1.0, le=3.0)] = 1.3
    load_factor: Fraction = 0.8
    idle_load_factor: Fraction = 0.3
    hours_per_month: Annotated[float, Field(gt=0.0, le=744.0)] = HOURS_PER_MONTH
    cabinet_fee: NonNeg = 0.0
    cabinet_fee_unit: CabinetUnit = CabinetUnit.SERVER_MONTH
    servers_per_cabinet: Annotated[int, Field(ge=1)] = 1
    om_pct_capex_annual: Fraction = 0.0
    staff_per_month: NonNeg = 0.0
    bandwidth_per_month: NonNeg = 0.0


class Taxes(_Model):
    """VAT on the services sold and income tax.

    ``vat_rate`` is the output VAT of the product sold: 13 % for leasing movable property (bare
    metal), 6 % for IT / computing services (computing center). With ``credit_input_vat`` the
    capex amounts (server price, network and installation) are VAT-inclusive at
    ``input_vat_rate``; that input VAT is credited against output VAT, an uncredited balance
    carries forward and is never refunded (lost at the horizon), and depreciation is on the
    VAT-exclusive cost. ``surcharge_rate`` (urban construction 7 % + education 3 % + local
    education 2 % = 12 %) is charged on the VAT actually paid and is deductible for income tax.
    ``loss_carryforward_years``: ``None`` taxes cumulative profit monthly with unlimited loss
    carry-forward (the older simplification); an integer (China: 5) settles income tax per
    fiscal year (12 months from month 1), paid in the year's last month, a loss offsetting the
    next N years' profits oldest first and then expiring; a loss is never refunded.
    """

    vat_rate: Fraction = 0.13
    prices_include_vat: bool = True
    income_tax_rate: Fraction = 0.25
    credit_input_vat: bool = False
    input_vat_rate: Fraction = 0.13
    surcharge_rate: Fraction = 0.0
    loss_carryforward_years: Annotated[int, Field(ge=1, le=30)] | None = None


class Depreciation(_Model):
    """Book depreciation (``method`` over ``years``, to ``salvage_pct``) and tax depreciation
    (``tax_method`` over ``tax_years``; unset = same as book). ``one_time`` (tax only) deducts
    the whole VAT-exclusive cost of a server in the month after delivery when the unit cost is at
    most ``one_time_limit_per_unit`` and the delivery date (``Scenario.start_date`` + month) lies
    in ``[one_time_eligible_from, one_time_eligible_until]``; other capex (and ineligible
    batches) use straight line over the tax life. Where book and tax differ, the book income tax
    expense includes deferred tax (docs/economics.md)."""

    years: Annotated[float, Field(gt=0.0, le=30.0)] = 5.0
    salvage_pct: Fraction = 0.0
    # resale value of a server when it leaves service, % of its purchase price; unset = the
    # salvage value (no gain at the end of the book life). At retirement (useful life or
    # end_of_life.retire_month) the book value left is written off and the gain or loss is
    # taxed; servers still in service at the horizon are valued at it as terminal cash.
    resale_pct_at_end: Fraction | None = None

    def resale_pct(self) -> float:
        return self.salvage_pct if self.resale_pct_at_end is None else self.resale_pct_at_end

    method: Literal["straight_line", "syd", "ddb"] = "straight_line"
    tax_method: Literal["straight_line", "syd", "ddb", "one_time"] | None = None
    tax_years: Annotated[float, Field(gt=0.0, le=30.0)] | None = None
    one_time_limit_per_unit: NonNeg = 5_000_000.0
    one_time_eligible_from: date = date(2018, 1, 1)
    one_time_eligible_until: date = date(2027, 12, 31)

    @model_validator(mode="after")
    def _whole_years(self) -> Depreciation:
        if self.method != "straight_line" and self.years != int(self.years):
            raise ValueError(f"depreciation.method {self.method!r} needs whole years")
        tax_years = self.tax_years if self.tax_years is not None else self.years
        if self.tax_method in ("syd", "ddb") and tax_years != int(tax_years):
            raise ValueError(f"depreciation.tax_method {self.tax_method!r} needs whole tax_years")
        return self


class EndOfLife(_Model):
    """When servers leave service. Each delivery batch earns from the month after delivery
    until ``useful_life_years`` (unset = the book depreciation life) or ``retire_month``
    (whichever is first), and is then sold for ``depreciation.resale_pct_at_end`` of its price;
    batches still in service at the horizon are sold there. With ``replace`` a retired batch is
    replaced at once by the same count bought at ``replacement_price_pct`` of the original
    unit price (no new ramp: the customers stay), so a horizon longer than the useful life
    keeps earning only by paying replacement capex; without it the servers stop earning."""

    useful_life_years: Annotated[float, Field(gt=0.0, le=30.0)] | None = None
    retire_month: Annotated[int, Field(ge=1)] | None = None
    replace: bool = False
    replacement_price_pct: NonNeg = 1.0


class PriceShock(_Model):
    month: Annotated[int, Field(ge=1)]
    pct: Annotated[float, Field(gt=-1.0, le=10.0)]  # -0.2 = prices fall 20 % from this month


class _Operating(_Model):
    """Inputs common to the two forms that run servers."""

    initial_occupancy: Fraction = 0.0
    ramp_months: Annotated[int, Field(ge=0)] = 0
    # The ramp restarts for each delivery batch (from its own delivery month, so a late batch
    # ramps late); false: one ramp from month 0 of the horizon whatever the deliveries.
    # Replacements at end of life keep their batch's customers (no new ramp).
    ramp_per_batch: bool = True
    contract_months: Annotated[int, Field(ge=1, le=120)] = 1
    price_decline_annual: Annotated[float, Field(ge=-1.0, le=1.0)] = 0.0
    price_shocks: list[PriceShock] = Field(default_factory=list)
    receivable_days: Annotated[float, Field(ge=0.0, le=720.0)] = 30.0
    bad_debt_pct: Fraction = 0.0
    # Price paths. ``price_series``: market price factors by month (month 1 first, the last
    # value held), replacing ``price_decline_annual`` (also in the Monte Carlo); shocks still
    # apply. ``price_floor``: the market factor never goes below it (after shocks).
    # ``contracted_share`` of the occupied capacity is let at the starting price, fixed for
    # ``contracted_months``, then re-prices like the rest (spot / new contracts).
    price_series: list[Annotated[float, Field(ge=0.0, le=10.0)]] | None = None
    price_floor: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    contracted_share: Fraction = 0.0
    contracted_months: Annotated[int, Field(ge=0, le=600)] = 0

    def level(self) -> float:
        raise NotImplementedError

    def ceiling(self) -> float:
        raise NotImplementedError


class BareMetal(_Operating):
    """Whole servers rented per month; ``occupancy`` is the steady share of servers let."""

    kind: Literal["bare_metal"] = "bare_metal"
    rent_per_server_month: NonNeg
    occupancy: Fraction
    occupancy_ceiling: Fraction = 0.95
    pass_through_per_server_month: NonNeg = 0.0

    @model_validator(mode="after")
    def _under_ceiling(self) -> BareMetal:
        if self.occupancy > self.occupancy_ceiling:
            raise ValueError("occupancy above occupancy_ceiling")
        return self

    def level(self) -> float:
        return self.occupancy

    def ceiling(self) -> float:
        return self.occupancy_ceiling


class ComputingCenter(_Operating):
    """Networked cluster metered per GPU-hour; pooled demand allows a higher utilization ceiling."""

    kind: Literal["computing_center"] = "computing_center"
    gpu_hour_price: NonNeg
    utilization: Fraction
    utilization_ceiling: Fraction = 0.98
    platform_cost_per_month: NonNeg = 0.0
    platform_staff_per_month: NonNeg = 0.0

    @model_validator(mode="after")
    def _under_ceiling(self) -> ComputingCenter:
        if self.utilization > self.utilization_ceiling:
            raise ValueError("utilization above utilization_ceiling")
        return self

    def level(self) -> float:
        return self.utilization

    def ceiling(self) -> float:
        return self.utilization_ceiling


class Investment(_Model):
    """Money put into a compute firm for ``stake`` of it, against a committed yearly profit.

    Each year the target earns the committed profit, or with ``shortfall_probability`` falls
    short by ``shortfall_pct``; the investor receives ``payout_ratio`` of its share as
    dividends, and ``compensation_recovery`` of the committed-minus-actual gap as compensation.
    ``exit_value`` is received at the horizon, scaled by realised / committed profit.
    """

    kind: Literal["investment"] = "investment"
    amount: NonNeg
    stake: Annotated[float, Field(gt=0.0, le=1.0)]
    committed_profit_annual: NonNeg
    payout_ratio: Fraction = 1.0
    shortfall_probability: Fraction = 0.0
    shortfall_pct: Fraction = 0.0
    compensation_recovery: Fraction = 0.0
    exit_value: NonNeg = 0.0
    dividends_taxable: bool = False  # dividends between resident enterprises are exempt in China


Form = Annotated[BareMetal | ComputingCenter | Investment, Field(discriminator="kind")]


class Dist(_Model):
    """A distribution: ``fixed`` (value), ``uniform`` (low, high), ``triangular`` (low, mode,
    high) or ``normal`` (mean, sd, clipped to [low, high] when given)."""

    dist: Literal["fixed", "uniform", "triangular", "normal"]
    value: float | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    mean: float | None = None
    sd: Annotated[float, Field(ge=0.0)] | None = None

    @model_validator(mode="after")
    def _parameters(self) -> Dist:
        need = {
            "fixed": ("value",),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "normal": ("mean", "sd"),
        }[self.dist]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(f"{self.dist} distribution needs {', '.join(missing)}")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError("low must not exceed high")
        if self.dist == "triangular" and not (self.low <= self.mode <= self.high):  # type: ignore[operator]
            raise ValueError("triangular needs low <= mode <= high")
        return self


class MonteCarloSpec(_Model):
    """Uncertain inputs. Unset ones stay at the scenario's value. ``occupancy`` is the steady
    level (occupancy or utilization), clipped to [0, ceiling]."""

    occupancy: Dist | None = None
    price_decline_annual: Dist | None = None
    delivery_shortfall: Dist | None = None  # share of the schedule never delivered, clipped [0,1]
    # whole months every batch of a path arrives late (rounded, >= 0; capped at the last month)
    delivery_delay_months: Dist | None = None
    # deposit paid per server ordered; the deposit on the undelivered share is lost in month 0
    deposit_pct: Fraction = 0.0
    # share of the undelivered servers bought again, at replacement_price_factor x the price,
    # arriving replacement_lead_months after the (late) original batch (the article's
    # replacements cost 2.8-3.3 M against 2.1 M: a factor of 1.33-1.57)
    replacement_share: Fraction = 0.0
    replacement_price_factor: Annotated[float, Field(gt=0.0, le=10.0)] = 1.0
    replacement_lead_months: Annotated[int, Field(ge=0, le=120)] = 3
    bad_debt_pct: Dist | None = None
    price_shock_probability_annual: Fraction = 0.0
    price_shock_size: Dist | None = None  # e.g. uniform(-0.3, -0.1)
    # Gaussian-copula correlation between the occupancy level and the price level (= minus the
    # annual price decline): > 0 means a glut cuts both at once. Default 0.5: no published
    # coefficient exists; the one documented glut (China 2024-25: rents -50 % while centres ran
    # at ~30 % utilisation) gives the sign, 0.5 is a stated choice of size (docs/economics.md,
    # "Correlated price and occupancy"). 0 = independent, the stream of earlier releases.
    price_occupancy_correlation: Annotated[float, Field(ge=-1.0, le=1.0)] = DEFAULT_CORRELATION


class Scenario(_Model):
    name: str = "scenario"
    description: str = ""
    currency: str = "CNY"
    horizon_months: Annotated[int, Field(ge=1, le=600)]
    start_date: date | None = None  # date of month 0 (needed for date-dependent tax rules)
    discount_rate_annual: Annotated[float, Field(gt=-1.0, le=10.0)] = 0.10
    # Cash flows the metrics use: "project" (before financing: capex paid in full, interest
    # added back) or "equity" (after loan draws, interest and principal). Equal without a loan.
    cash_flow_basis: Literal["project", "equity"] = "project"
    fleet: Fleet | None = None
    capex: Capex = Capex()
    financing: Financing = Financing()
    opex: Opex = Opex()
    taxes: Taxes = Taxes()
    depreciation: Depreciation = Depreciation()
    end_of_life: EndOfLife = EndOfLife()
    form: Form
    montecarlo: MonteCarloSpec | None = None
    assumptions: list[str] = Field(default_factory=list)  # sources and reasoning, for humans

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.form.kind != "investment" and self.fleet is None:
            raise ValueError(f"fleet is required for form.kind = {self.form.kind!r}")
        if self.fleet is not None:
            late = [d.month for d in self.fleet.schedule() if d.month >= self.horizon_months]
            if late:
                raise ValueError(f"fleet.delivery month {late[0]} is not inside the horizon")
        slb = self.financing.sale_leaseback_month
        if slb is not None and self.financing.finance_lease:
            raise ValueError("financing.finance_lease excludes sale_leaseback_month")
        if slb is not None and slb >= self.horizon_months:
            raise ValueError(f"financing.sale_leaseback_month {slb} is not inside the horizon")
        retire = self.end_of_life.retire_month
        if retire is not None and retire > self.horizon_months:
            raise ValueError(f"end_of_life.retire_month {retire} is after the horizon")
        if self.depreciation.tax_method == "one_time" and self.start_date is None:
            raise ValueError("start_date is required with depreciation.tax_method = 'one_time'")
        return self
