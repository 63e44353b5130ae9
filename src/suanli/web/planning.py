"""The Economics → Plan page: the purchase planner behind a small form.

The form sets a few inputs of the bundled planning scenario (risk measure and limit, budget,
capacity in service, pool demand and rent, scenario count and seed); the page runs
:func:`suanli.economics.planning.plan_purchase` and shows the chosen orders, the comparison
with "buy everything now" and "buy nothing more" (out of sample) and the efficient frontier.
Scenario counts are capped so a page stays a few seconds of CPU. With htmx the form replaces
only ``#plan-results``; without JavaScript it reloads the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from suanli.core.errors import SuanliError, ValidationError
from suanli.core.i18n import N_, _
from suanli.economics.planning import default_spec, plan_purchase, spec_from_mapping
from suanli.web.render import chart, page, partial

router = APIRouter(include_in_schema=False)

PAGE_SCENARIOS = 50
MAX_PAGE_SCENARIOS = 300
PAGE_OOS = 2_000
#: The planner's row labels and solver statuses, shown through ``| tr`` and chart().
PLAN_WORDS = (
    N_("buy everything now"), N_("buy nothing more"), N_("no risk limit"), N_("chosen"),
    N_("optimal"), N_("time_limit"), N_("failed"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # form field name
    path: tuple[str, ...]  # where in the planning mapping
    label: str
    step: str
    kind: type = float


# Money fields take any value: a browser counts a number input's steps from its initial value,
# so step="1000" on a rent of 88,500 refused 150,000 and the form would not submit (found by the
# browser test).
FIELDS = (
    Field("limit_p_loss", ("risk", "max_p_loss"), N_("Max P(loss) (0–1, measure p_loss)"), "any"),
    Field("limit_cvar", ("risk", "max_cvar_loss"), N_("Max CVaR 5 % loss (measure cvar)"), "any"),
    Field("budget", ("budget", "total"), N_("Budget (capex)"), "any"),
    Field("existing", ("existing_units",), N_("Capacity in service (units)"), "any"),
    Field("base", ("demand", "base_units"), N_("Pool demand now (units)"), "any"),
    Field("rent", ("demand", "rent_per_unit_month"), N_("Pool rent per unit-month"), "any"),
    Field(
        "scenarios", ("solver", "scenarios"), N_("Scenarios (≤ 300)"), "1", int
    ),  # MAX_PAGE_SCENARIOS
    Field("seed", ("solver", "seed"), N_("Seed"), "1", int),
)


def _get(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = data
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def _set(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = value


def base_mapping() -> dict[str, Any]:
    data = default_spec().model_dump(mode="python")
    data["solver"]["scenarios"] = PAGE_SCENARIOS
    data["solver"]["oos_scenarios"] = PAGE_OOS
    return data


def parse(params: dict[str, str]) -> dict[str, Any]:
    """The planning mapping with the form's values (coded error naming the field)."""
    data = base_mapping()
    measure = params.get("measure") or data["risk"]["measure"]
    if measure not in ("p_loss", "cvar"):
        raise ValidationError(
            "planning.invalid", "measure must be p_loss or cvar", {"measure": measure}
        )
    data["risk"]["measure"] = measure
    for f in FIELDS:
        raw = (params.get(f.name) or "").strip()
        if not raw:
            continue
        try:
            value: Any = int(float(raw)) if f.kind is int else float(raw)
        except ValueError:
            raise ValidationError(
                "planning.invalid", f"{f.label}: not a number: {raw!r}", {f.name: "a number"}
            ) from None
        _set(data, f.path, value)
    if not 1 <= data["solver"]["scenarios"] <= MAX_PAGE_SCENARIOS:
        raise ValidationError(
            "planning.invalid",
            f"scenarios must be 1 to {MAX_PAGE_SCENARIOS}",
            {"scenarios": f"1..{MAX_PAGE_SCENARIOS}"},
        )
    if data["solver"]["seed"] == data["solver"]["oos_seed"]:
        data["solver"]["oos_seed"] = data["solver"]["seed"] + 1
    return data


def build(params: dict[str, str]) -> dict[str, Any]:
    """Form → plan, comparison rows and charts (or an error)."""
    base = base_mapping()
    values = {f.name: _get(base, f.path) for f in FIELDS}
    context: dict[str, Any] = {"values": values, "measure": base["risk"]["measure"], "error": None}
    try:
        data = parse(params)
        result = plan_purchase(spec_from_mapping(data)).to_dict()
    except SuanliError as exc:
        context["error"] = exc.message + (f" ({', '.join(exc.fields)})" if exc.fields else "")
        context["values"].update({k: v for k, v in params.items() if k in values})
        return context
    context.update(
        values={f.name: _get(data, f.path) for f in FIELDS},
        measure=data["risk"]["measure"],
        plan=result,
        compare=[
            result["chosen"],
            result["unconstrained"],
            result["buy_everything_now"],
            result["buy_nothing_more"],
        ],
        frontier_chart=frontier_chart(result),
        orders_chart=orders_chart(result),
    )
    return context


def _risk(figures: dict[str, float], measure: str) -> float:
    return figures["p_loss"] * 100.0 if measure == "p_loss" else -figures["cvar"] / 1e6


def frontier_chart(plan: dict[str, Any]) -> str:
    measure = plan["risk"]["measure"]
    points = sorted(plan["frontier"], key=lambda p: _risk(p["out_of_sample"], measure))
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": [_risk(p["out_of_sample"], measure) for p in points],
            "y": [p["out_of_sample"]["expected_npv"] / 1e6 for p in points],
            "text": [p["label"] for p in points],
            "name": N_("frontier (out of sample)"),
        }
    ]
    for key, symbol in (
        ("chosen", "star"),
        ("buy_everything_now", "square"),
        ("buy_nothing_more", "diamond"),
    ):
        p = plan[key]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": [_risk(p["out_of_sample"], measure)],
                "y": [p["out_of_sample"]["expected_npv"] / 1e6],
                "name": p["label"],  # translated by chart() (PLAN_WORDS)
                "marker": {"size": 13, "symbol": symbol},
            }
        )
    x = _("P(loss) %") if measure == "p_loss" else _("CVaR 5 % loss (M)")
    y = _("expected NPV (M %(currency)s)") % {"currency": plan["currency"]}
    return chart(data, N_("Expected NPV against risk"), x, y)


def orders_chart(plan: dict[str, Any]) -> str:
    orders = plan["chosen"]["orders"]
    months = list(range(plan["decision_months"]))
    data: list[dict[str, Any]] = []
    for sku in sorted({o["sku"] for o in orders}):
        counts = [0] * len(months)
        for o in orders:
            if o["sku"] == sku:
                counts[o["month"]] += o["count"]
        data.append({"type": "bar", "x": months, "y": counts, "name": sku})
    return chart(
        data, N_("Chosen plan: servers ordered"), N_("order month"), N_("servers"), barmode="stack"
    )


def _params(request: Request) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items()}


@router.get("/economics/plan", response_class=HTMLResponse)
def plan_page(request: Request) -> HTMLResponse:
    return page(
        request,
        "economics_plan.html",
        "economics",
        title=_("Economics: purchase plan"),
        fields=FIELDS,
        **build(_params(request)),
    )


@router.get("/economics/plan/results", response_class=HTMLResponse)
def plan_results(request: Request) -> HTMLResponse:
    return partial(request, "_plan_results.html", **build(_params(request)))
