"""The purchase-planning scenario: demand forecast, candidate SKUs, budget, financing, risk.

Owns the schema of planning files (TOML, bundled default ``planning/default.toml``) and of the
``POST /api/v1/economics/plan`` body, validated with pydantic v2; failures raise
``planning.invalid`` whose ``fields`` are dotted paths (``sku.0.unit_price``).

Vocabulary: a *unit* of capacity is what demand is counted in (an 8-GPU H800-class server by
default); a SKU supplies ``capacity_units`` per server. *Month 0* is the first month the plan can
order in; ``decision_months`` months are open for orders; cash flows are valued over
``horizon_months`` from month 0. Amounts (prices, rents, opex) are VAT-exclusive in
``currency``; ``[taxes]`` says how plans are valued: ``basis = "after_tax"`` (the default) on the
economics engine's cash flow (VAT, surcharges, income tax with loss expiry, tax and book
depreciation, financing; :mod:`.aftertax`), ``"pre_tax"`` on the plan's own pre-tax cash flow.
``*_annual`` per year, fractions as 0.13 = 13 %.
"""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, model_validator

from suanli.core.errors import ValidationError
from suanli.economics.loader import errors_to_fields
from suanli.economics.scenario import DEFAULT_CORRELATION, Dist

NonNeg = Annotated[float, Field(ge=0.0)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


MAX_FRONTIER = 12  # points of a user-given efficient frontier (one MILP each)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Lease(_Model):
    """A prospective lease in the pipeline: won with ``probability``, it needs ``units`` from
    ``start_month`` for ``term_months`` at a rent fixed for the term. ``units_sd`` spreads the
    units across scenarios: ``max(0, units + z * units_sd)`` with one standard normal ``z`` per
    scenario shared by every lease with a spread (demand high or low for the whole horizon:
    how ``--demand-from-twin`` carries the twin's Poisson spread)."""

    customer: str
    units: Annotated[float, Field(gt=0.0)]
    units_sd: NonNeg = 0.0
    start_month: Annotated[int, Field(ge=0)]
    term_months: Annotated[int, Field(ge=1)]
    probability: Fraction
    rent_per_unit_month: NonNeg


class Demand(_Model):
    """Pool (spot/new-contract) demand ``base_units * exp(growth * t / 12)`` at the market rent
    ``rent_per_unit_month * (1 - decline) ** (t / 12)``, plus the lease pipeline.

    ``growth_annual`` and ``price_decline_annual`` are joined by a Gaussian copula with
    ``growth_price_correlation``: > 0 means a glut (weak growth) comes with a steep price fall;
    the default 0.5 is the economics engine's (docs/economics.md, "Correlated price and
    occupancy").
    """

    base_units: NonNeg = 0.0
    growth_annual: Dist = Dist(dist="fixed", value=0.0)
    rent_per_unit_month: NonNeg = 0.0
    price_decline_annual: Dist = Dist(dist="fixed", value=0.0)
    growth_price_correlation: Annotated[float, Field(ge=-1.0, le=1.0)] = DEFAULT_CORRELATION
    pipeline: list[Lease] = []


class DeliveryRisk(_Model):
    """Supplier delivery risk of one SKU: extra months beyond the lead time and the share of an
    order never delivered, each a distribution or a list of observed values (resampled, as the
    ledger's procurement history gives them)."""

    delay_months: Dist | list[Annotated[float, Field(ge=0.0)]] = Dist(dist="fixed", value=0.0)
    shortfall: Dist | list[Fraction] = Dist(dist="fixed", value=0.0)


class Sku(_Model):
    """A candidate server. Orders pay ``deposit_pct`` of the price at order and the rest of the
    delivered share on arrival; the deposit on the undelivered share is lost. Prices move by
    ``price_trend_annual`` (a rise is what a late replacement costs: the article's 2.1 M → 2.8-3.3
    M). A server earns from arrival for ``useful_life_months`` and costs ``opex_per_month``
    (power, colocation, O&M); at the end of life it fetches ``salvage_pct`` of its price, at the
    horizon ``resale_pct_of_book`` of its straight-line book value."""

    name: str
    catalog_sku: str | None = None
    capacity_units: Annotated[float, Field(gt=0.0)] = 1.0
    unit_price: Annotated[float, Field(gt=0.0)]
    price_trend_annual: Dist = Dist(dist="fixed", value=0.0)
    lead_time_months: Annotated[int, Field(ge=0, le=60)] = 3
    deposit_pct: Fraction = 0.3
    opex_per_month: NonNeg = 0.0
    useful_life_months: Annotated[int, Field(ge=1, le=240)] = 60
    salvage_pct: Fraction = 0.05
    resale_pct_of_book: Fraction = 0.5
    max_per_month: Annotated[int, Field(ge=0)] | None = None
    delivery: DeliveryRisk = DeliveryRisk()


class Budget(_Model):
    """Capex limits on the planning price (list price moved by the mean price trend)."""

    total: NonNeg | None = None
    per_month: NonNeg | None = None


class Financing(_Model):
    """Debt finances ``loan_share`` of each payment as an annuity at ``rate_annual`` (applied as
    the nominal monthly rate ``rate_annual / 12``) over ``term_months``; ``max_loan`` caps the
    debt and ``equity`` the equity outlay. Debt cheaper than the discount rate adds NPV."""

    loan_share: Fraction = 0.0
    rate_annual: NonNeg = 0.0
    term_months: Annotated[int, Field(ge=1)] = 36
    max_loan: NonNeg | None = None
    equity: NonNeg | None = None


class Taxes(_Model):
    """How plans are valued. ``basis = "after_tax"``: each plan is valued by the economics
    engine (``suanli.economics.cashflow.project``, what ``suanli econ evaluate`` runs) as a
    stand-alone project taxed on its own (losses carried forward ``loss_carryforward_years``,
    then lost; no group relief), on the ``cash_flow`` basis (``equity``: after loan draws,
    interest and principal; ``project``: before financing, the interest tax shield kept). The
    fields mean what the engine's ``[taxes]`` and ``[depreciation]`` fields of the same name
    mean; book depreciation is straight line over each SKU's useful life to ``salvage_pct``.
    ``basis = "pre_tax"``: the plan's own VAT-exclusive pre-tax cash flow (:mod:`.valuation`)."""

    basis: Literal["after_tax", "pre_tax"] = "after_tax"
    cash_flow: Literal["equity", "project"] = "equity"
    vat_rate: Fraction = 0.13  # output VAT: 13 % leasing movable property, 6 % IT services
    credit_input_vat: bool = True
    input_vat_rate: Fraction = 0.13
    surcharge_rate: Fraction = 0.12  # urban construction 7 % + education 3 % + local 2 %
    income_tax_rate: Fraction = 0.25
    loss_carryforward_years: Annotated[int, Field(ge=1, le=30)] | None = 5
    tax_method: Literal["straight_line", "syd", "ddb", "one_time"] | None = None
    tax_years: Annotated[float, Field(gt=0.0, le=30.0)] | None = None
    one_time_limit_per_unit: NonNeg = 5_000_000.0
    one_time_eligible_from: date = date(2018, 1, 1)
    one_time_eligible_until: date = date(2027, 12, 31)
    start_date: date | None = None  # date of month 0 (needed with tax_method = "one_time")


class Risk(_Model):
    """The risk limit: ``p_loss`` (share of scenarios whose plan NPV is negative, at most
    ``max_p_loss``) or ``cvar`` (mean NPV of the worst ``cvar_alpha`` share of scenarios, at least
    ``-max_cvar_loss``). ``frontier`` lists the limits of the efficient frontier (default: a grid
    around the chosen limit)."""

    measure: Literal["p_loss", "cvar"] = "p_loss"
    max_p_loss: Fraction = 0.1
    cvar_alpha: Annotated[float, Field(gt=0.0, le=1.0)] = 0.05
    max_cvar_loss: NonNeg = 0.0
    frontier: (
        Annotated[list[Annotated[float, Field(ge=0.0)]], Field(max_length=MAX_FRONTIER)] | None
    ) = None


Seed = Annotated[int, Field(ge=0, lt=2**63)]  # numpy refuses negative seeds (was a 500)


class Solver(_Model):
    scenarios: Annotated[int, Field(ge=1, le=20_000)] = 200
    seed: Seed = 0
    oos_scenarios: Annotated[int, Field(ge=1, le=200_000)] = 5_000
    oos_seed: Seed = 1
    time_limit_s: Annotated[float, Field(gt=0.0)] = 60.0  # the whole plan: its MILPs share it
    mip_rel_gap: Annotated[float, Field(ge=0.0, le=1.0)] = 1e-3
    # a P(loss) limit: "exact" (one binary per scenario; slow beyond ~100 scenarios),
    # "ranking" (fix which scenarios may lose, re-rank, repeat: fast, heuristic), "cvar_bound"
    # (CVaR at level max_p_loss >= 0: implies the limit, may give up NPV), "auto" (exact up to
    # 100 scenarios, else ranking)
    p_loss_method: Literal["auto", "exact", "ranking", "cvar_bound"] = "auto"


class PlanningSpec(_Model):
    name: str = "plan"
    description: str = ""
    currency: str = "CNY"
    capacity_unit: str = "server"
    decision_months: Annotated[int, Field(ge=1, le=120)] = 24
    horizon_months: Annotated[int, Field(ge=1, le=240)] = 60
    discount_rate_annual: Annotated[float, Field(ge=0.0, le=1.0)] = 0.10
    existing_units: NonNeg = 0.0  # capacity in service now; it serves demand first (sunk)
    demand: Demand
    sku: Annotated[list[Sku], Field(min_length=1, max_length=20)]
    budget: Budget = Budget()
    financing: Financing = Financing()
    taxes: Taxes = Taxes()
    risk: Risk = Risk()
    solver: Solver = Solver()
    assumptions: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> PlanningSpec:
        if self.decision_months > self.horizon_months:
            raise ValueError("decision_months must not exceed horizon_months")
        names = [s.name for s in self.sku]
        if len(set(names)) != len(names):
            raise ValueError("sku names must be unique")
        if self.solver.seed == self.solver.oos_seed:
            raise ValueError("solver.oos_seed must differ from solver.seed (fresh scenarios)")
        if self.taxes.tax_method == "one_time" and self.taxes.start_date is None:
            raise ValueError("taxes.start_date is required with taxes.tax_method = 'one_time'")
        return self


def spec_from_mapping(data: Any) -> PlanningSpec:
    """Validate ``data`` as a :class:`PlanningSpec`; failures raise ``planning.invalid``."""
    try:
        return PlanningSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        fields = errors_to_fields(exc)
        raise ValidationError(
            "planning.invalid", f"invalid planning scenario: {', '.join(sorted(fields))}", fields
        ) from None


def parse_spec(text: str) -> PlanningSpec:
    """Parse planning TOML ``text``; syntax errors raise ``planning.syntax``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationError(
            "planning.syntax", f"cannot parse planning file as TOML: {exc}", {"file": "toml"}
        ) from None
    return spec_from_mapping(data)
