"""The economics what-if page: a form over the economics engine, three charts.

The form sets a few inputs of a bundled bare-metal scenario (rent, occupancy, purchase price,
power price, fleet size, price decline, discount rate); the page evaluates it with
:func:`suanli.economics.evaluate` and draws the cumulative cash flow with payback, the
break-even curve (NPV and net income against steady occupancy) and a Monte Carlo fan whose
draws are centred on the form's occupancy and rent decline and shown and editable
(:mod:`suanli.web.econ_draws`). With
htmx the form replaces only ``#econ-results``; without JavaScript it reloads the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from suanli.core.errors import SuanliError, ValidationError
from suanli.core.i18n import N_, _
from suanli.economics.evaluate import Evaluation, evaluate
from suanli.economics.library import load_bundled, scenario_names
from suanli.economics.loader import get_path, with_overrides
from suanli.economics.montecarlo import run_montecarlo
from suanli.economics.scenario import MonteCarloSpec, Scenario
from suanli.services.container import Services
from suanli.web import econ_draws as draws
from suanli.web import money_views as mv
from suanli.web import views
from suanli.web.render import chart, page, partial

router = APIRouter(include_in_schema=False)

DEFAULT_SCENARIO = "h800-bare-metal-2p1m"
MC_PATHS = 2_000
CURVE_STEPS = 20


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # form field name
    path: str  # dotted scenario path
    label: str
    step: str
    kind: type = float


FIELDS = (
    Field("rent", "form.rent_per_server_month", N_("Rent per server-month"), "1000"),
    Field("occupancy", "form.occupancy", N_("Occupancy (0–1)"), "0.01"),
    Field("unit_price", "fleet.unit_price", N_("Purchase price per server"), "10000"),
    Field("power_price", "opex.power_price_kwh", N_("Power price per kWh"), "0.01"),
    Field("count", "fleet.count", N_("Servers"), "1", int),
    Field("price_decline", "form.price_decline_annual", N_("Rent decline per year (0–1)"), "0.01"),
    Field("discount_rate", "discount_rate_annual", N_("Discount rate per year"), "0.01"),
)


def bare_metal_names() -> list[str]:
    return [n for n in scenario_names() if load_bundled(n).form.kind == "bare_metal"]


def _parse(scenario: Scenario, params: dict[str, str]) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for f in FIELDS:
        raw = (params.get(f.name) or "").strip()
        if not raw:
            continue
        try:
            value: Any = f.kind(float(raw)) if f.kind is int else float(raw)
        except ValueError:
            raise ValidationError(
                "scenario.invalid", f"{f.label}: not a number: {raw!r}", {f.name: "a number"}
            ) from None
        if value != get_path(scenario, f.path):
            overrides[f.path] = value
    return overrides


def _values(scenario: Scenario) -> dict[str, Any]:
    return {f.name: get_path(scenario, f.path) for f in FIELDS}


def build(params: dict[str, str]) -> dict[str, Any]:
    """Scenario from the form → evaluation, Monte Carlo and chart specs (or an error)."""
    name = params.get("scenario") or DEFAULT_SCENARIO
    if name not in bare_metal_names():
        name = DEFAULT_SCENARIO
    base = load_bundled(name)
    base_draws = draws.defaults(base)
    context: dict[str, Any] = {
        "scenario_name": name,
        "values": _values(base),
        "draws": base_draws.form_values(),
        "draw_fields": draws.TEXT_DRAWS,
        "error": None,
    }
    try:
        overrides = _parse(base, params)
        scenario = with_overrides(base, overrides)
        chosen = draws.parse_draws(base_draws, params)
        uncertain = draws.with_draws(scenario, chosen)
        seed = int(params.get("seed") or 1)
    except (SuanliError, ValueError) as exc:
        context["error"] = exc.message if isinstance(exc, SuanliError) else str(exc)
        if isinstance(exc, SuanliError) and exc.fields:
            context["error"] += f" ({', '.join(exc.fields)})"
        context["values"].update({k: v for k, v in params.items() if k in context["values"]})
        context["draws"].update({k: v for k, v in params.items() if k in context["draws"]})
        return context
    ev = evaluate(scenario, "npv")
    profit = evaluate(scenario, "profit")
    mc = run_montecarlo(uncertain, MC_PATHS, seed)
    assert uncertain.montecarlo is not None
    context.update(
        values=_values(scenario),
        draws=chosen.form_values(),
        drawn=drawn(uncertain.montecarlo),
        assumes=assumptions(scenario, ev.currency),
        seed=seed,
        ev=ev,
        profit_breakeven=profit.breakeven_occupancy,
        mc=mc.summary(),
        cash_chart=cash_chart(ev),
        breakeven_chart=breakeven_chart(
            scenario, ev.breakeven_occupancy, profit.breakeven_occupancy
        ),
        fan_chart=fan_chart(mc.fan_months.tolist(), {k: v.tolist() for k, v in mc.fan.items()}, ev),
    )
    return context


def drawn(spec: MonteCarloSpec) -> list[tuple[str, str]]:
    """What each Monte Carlo path draws, as ``(input, distribution)`` lines for the page."""
    return [
        (_("occupancy (steady level)"), draws.dist_text(spec.occupancy)),
        (_("rent decline per year"), draws.dist_text(spec.price_decline_annual)),
        (_("delivery shortfall"), draws.dist_text(spec.delivery_shortfall)),
        (_("bad debt"), draws.dist_text(spec.bad_debt_pct)),
        (_("price shock per year"), _("probability %(p)s, size %(size)s") % {
            "p": f"{spec.price_shock_probability_annual:g}",
            "size": draws.dist_text(spec.price_shock_size)}),
    ]  # fmt: skip


def assumptions(scenario: Scenario, currency: str) -> dict[str, str]:
    """One line per figure saying what it assumes."""
    form = draws.bare_metal(scenario)
    base = _(
        "occupancy %(occupancy)s from month %(ramp)d, rent %(rent)s %(currency)s falling "
        "%(decline)s a year, %(months)d months"
    ) % {
        "occupancy": f"{form.occupancy:.0%}",
        "ramp": form.ramp_months,
        "rent": f"{form.rent_per_server_month:,.0f}",
        "currency": currency,
        "decline": f"{form.price_decline_annual:.0%}",
        "months": scenario.horizon_months,
    }
    return {
        "npv": _("%(base)s, discounted at %(rate)s a year; no shocks, every server delivered")
        % {"base": base, "rate": f"{scenario.discount_rate_annual:.0%}"},
        "irr": _("the same deterministic cash flows as the NPV"),
        "payback": _("month the cumulative cash flow of the NPV's cash flows turns positive"),
        "be-occupancy": _(
            "steady occupancy at which NPV (profit: net income) is zero, other inputs as above"
        ),
        "be-rent": _("rent at which NPV is zero at %(occupancy)s occupancy")
        % {"occupancy": f"{form.occupancy:.0%}"},
        "net-margin": _("net income / revenue over the horizon, deterministic"),
        "p-loss": _(
            "share of %(paths)s paths whose net income over the horizon is below zero, "
            "drawing the inputs listed under the charts"
        )
        % {"paths": f"{MC_PATHS:,}"},
        "npv-fan": _("NPV quantiles over the same paths"),
    }


def cash_chart(ev: Evaluation) -> str:
    table = ev.table()
    months = [r["month"] for r in table]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": months,
            "y": [r["cumulative"] for r in table],
            "name": N_("cumulative"),
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": months,
            "y": [r["discounted_cumulative"] for r in table],
            "name": N_("discounted cumulative"),
            "line": {"dash": "dot"},
        },
    ]
    shapes = []
    for value, label, color in (
        (ev.static_payback_months, N_("payback"), "#2ca02c"),
        (ev.dynamic_payback_months, N_("dynamic payback"), "#9467bd"),
    ):
        if value is not None:
            shapes.append(
                {
                    "type": "line",
                    "x0": value,
                    "x1": value,
                    "yref": "paper",
                    "y0": 0,
                    "y1": 1,
                    "line": {"dash": "dash", "color": color},
                }
            )
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "x": [value],
                    "y": [0],
                    "name": _("%(label)s %(months).1f mo") % {"label": _(label), "months": value},
                    "marker": {"size": 10, "color": color},
                }
            )
    return chart(
        data, N_("Cumulative cash flow"), N_("month from the start"),
        _("cumulative free cash flow (%(currency)s)") % {"currency": ev.currency}, shapes=shapes,
    )  # fmt: skip


def breakeven_chart(scenario: Scenario, be_npv: float | None, be_profit: float | None) -> str:
    ceiling = float(get_path(scenario, "form.occupancy_ceiling"))
    occs = [round(ceiling * i / CURVE_STEPS, 4) for i in range(CURVE_STEPS + 1)]
    npv, profit = [], []
    for occ in occs:
        ev = evaluate(with_overrides(scenario, {"form.occupancy": occ}), with_breakeven=False)
        npv.append(ev.npv)
        profit.append(ev.total_net_income)
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": [o * 100 for o in occs],
            "y": npv,
            "name": N_("NPV"),
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": [o * 100 for o in occs],
            "y": profit,
            "name": N_("net income over horizon"),
        },
    ]
    for value, label in ((be_npv, N_("break-even (NPV)")), (be_profit, N_("break-even (profit)"))):
        if value is not None:
            data.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "x": [value * 100],
                    "y": [0],
                    "name": f"{_(label)} {value:.1%}",
                    "marker": {"size": 10},
                }
            )
    return chart(
        data,
        N_("Break-even curve"),
        N_("steady occupancy (%)"),
        _("NPV / net income (%(currency)s)") % {"currency": scenario.currency},
    )


def fan_chart(months: list[float], fan: dict[str, list[float]], ev: Evaluation) -> str:
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": months,
            "y": fan["p90"],
            "name": N_("P90"),
            "line": {"width": 0},
            "showlegend": False,
        },
        {
            "type": "scatter",
            "mode": "lines",
            "x": months,
            "y": fan["p10"],
            "name": N_("P10–P90"),
            "fill": "tonexty",
            "fillcolor": "rgba(31,78,121,0.2)",
            "line": {"width": 0},
        },
        {"type": "scatter", "mode": "lines", "x": months, "y": fan["p50"], "name": N_("median")},
    ]
    return chart(
        data, _("Monte Carlo: cumulative cash flow (%(paths)s paths)") % {"paths": f"{MC_PATHS:,}"},
        N_("month from the start"),
        _("cumulative free cash flow (%(currency)s)") % {"currency": ev.currency},
    )  # fmt: skip


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}


@router.get("/economics", response_class=HTMLResponse)
def economics_page(request: Request) -> HTMLResponse:
    return page(
        request,
        "economics.html",
        "economics",
        fields=FIELDS,
        scenarios=bare_metal_names(),
        from_fleet=fleet_inputs(request.app.state.services),
        **build(_params(request)),
    )


def fleet_inputs(svc: Services, sku: str = "HGX-H800-8") -> dict[str, str] | None:
    """This center's H800 figures as form values: servers installed, their average purchase
    price, the average rent of active H800 leases and today's occupancy of the H800s."""
    servers = [
        s for s in views.all_servers(svc) if s.sku == sku and s.state not in views.NOT_INSTALLED
    ]
    leases = [
        c for c in mv.contracts(svc) if c.sku == sku and c.status == "active" and c.kind == "lease"
    ]
    prices = [s.purchase_price for s in servers if s.purchase_price is not None]
    sellable = [s for s in servers if s.state in views.SELLABLE]
    if not servers or not prices or not leases or not sellable:
        return None
    rent = sum(c.monthly_rent * c.server_count for c in leases) / sum(
        c.server_count for c in leases
    )
    sold = sum(1 for s in sellable if s.state in views.SOLD)
    return {
        "rent": f"{rent:.0f}",
        "occupancy": f"{sold / len(sellable):.2f}",
        "unit_price": f"{sum(prices) / len(prices):.0f}",
        "count": str(len(servers)),
    }


@router.get("/economics/results", response_class=HTMLResponse)
def economics_results(request: Request) -> HTMLResponse:
    return partial(request, "_econ_results.html", **build(_params(request)))
