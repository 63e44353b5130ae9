"""Dashboard page *Twin*: pick a bundled twin, change a few inputs, run it, read its P&L.

``GET /twin`` shows the form and the runs of this server process side by side (the comparison);
``POST /twin`` queues a run on the same background worker as ``POST /api/v1/twin/runs``
(:mod:`suanli.services.twin_runs`) and redirects to ``/twin/runs/{id}``, which polls with htmx
until the run is done and then shows the headline figures, the yearly table and three charts
(monthly billed revenue and free cash flow, occupancy, the cumulative-cash fan over the paths).
Operators and admins only; the form posts under the session cookie's SameSite=Lax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from suanli.core.errors import ForbiddenError, SuanliError, ValidationError
from suanli.core.i18n import N_, _
from suanli.services.tenancy import Role
from suanli.services.twin_runs import TwinRunRecord, TwinRuns
from suanli.simulation.twin.library import load_twin, twin_names
from suanli.web.render import chart, page, partial

router = APIRouter(include_in_schema=False)

DEFAULT = "static-mix"
MAX_PAGE_PATHS = 50


@dataclass(frozen=True, slots=True)
class Input:
    name: str
    path: str  # dotted twin path
    label: str
    step: str
    kind: type = float


INPUTS = (
    Input("decline", "twin.prices.decline_annual", N_("Rent decline per year (0–1)"), "0.05"),
    Input("arrivals", "twin.leases.arrival_rate_per_month", N_("Lease requests per month"), "1"),
    Input("renewal", "twin.leases.renewal_probability", N_("Renewal probability (0–1)"), "0.05"),
    Input("pool_servers", "twin.pool.servers", N_("Servers in the cloud pool"), "1", int),
    Input("pool_load", "twin.pool.load", N_("Pool load (0–1.5)"), "0.05"),
    Input("horizon", "horizon_months", N_("Horizon (months)"), "1", int),
)


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _nest(path: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    node = out
    *parents, leaf = path.split(".")
    for p in parents:
        node = node.setdefault(p, {})
    node[leaf] = value
    return out


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def defaults(name: str) -> dict[str, Any]:
    """The form's values of the bundled twin ``name``."""
    sc = load_twin(name)
    roots: dict[str, Any] = {"twin": sc.twin, "horizon_months": sc.economics.horizon_months}
    out = {}
    for i in INPUTS:
        head, _, rest = i.path.partition(".")
        out[i.name] = _get(roots[head], rest) if rest else roots[head]
    return out


def overrides_from(form: dict[str, str], name: str) -> dict[str, Any]:
    base = defaults(name)
    out: dict[str, Any] = {}
    for i in INPUTS:
        raw = (form.get(i.name) or "").strip()
        if not raw:
            continue
        try:
            value: Any = int(float(raw)) if i.kind is int else float(raw)
        except ValueError:
            raise ValidationError(
                "twin.invalid", f"{i.label}: not a number: {raw!r}", {i.path: "a number"}
            ) from None
        if value != base[i.name]:
            out = _merge(out, _nest(i.path, value))
    return out


def _runs(request: Request) -> TwinRuns:
    runs: TwinRuns = request.app.state.twin_runs
    return runs


def _operator(request: Request) -> HTMLResponse | None:
    try:
        request.state.user.require(Role.OPERATOR)
    except ForbiddenError as exc:
        return partial(request, "error.html", 403, title=_("Forbidden"), message=exc.message,
                       user=request.state.user)  # fmt: skip
    return None


def _form_page(request: Request, name: str, values: dict[str, Any], error: str | None,
               status: int = 200) -> HTMLResponse:  # fmt: skip
    response = page(
        request, "twin.html", "twin", scenarios=twin_names(), scenario_name=name,
        inputs=INPUTS, values=values, error=error, runs=_runs(request).list(),
        max_paths=MAX_PAGE_PATHS,
    )  # fmt: skip
    response.status_code = status
    return response


@router.get("/twin", response_class=HTMLResponse)
def twin_page(request: Request, scenario: str | None = None) -> HTMLResponse:
    denied = _operator(request)
    if denied is not None:
        return denied
    name = scenario if scenario in twin_names() else DEFAULT
    return _form_page(request, name, {**defaults(name), "paths": 5, "seed": 0}, None)


@router.post("/twin", response_model=None)
async def start_twin(request: Request) -> HTMLResponse | RedirectResponse:
    denied = _operator(request)
    if denied is not None:
        return denied
    form = {k: str(v) for k, v in (await request.form()).items()}
    name = form.get("scenario", DEFAULT)
    if name not in twin_names():
        name = DEFAULT
    try:
        paths = int(form.get("paths") or 5)
        seed = int(form.get("seed") or 0)
        if not 1 <= paths <= MAX_PAGE_PATHS or seed < 0:
            raise ValidationError(
                "twin.invalid", f"paths must be 1..{MAX_PAGE_PATHS} and seed >= 0",
                {"paths": f"1..{MAX_PAGE_PATHS}"},
            )  # fmt: skip
        record = _runs(request).submit(load_twin(name, overrides_from(form, name)), paths, seed)
    except (SuanliError, ValueError) as exc:
        message = exc.message if isinstance(exc, SuanliError) else str(exc)
        if isinstance(exc, SuanliError) and exc.fields:
            message += f" ({', '.join(exc.fields)})"
        return _form_page(request, name, form, message, 422)
    return RedirectResponse(f"/twin/runs/{record.id}", status_code=303)


def yearly(monthly: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for y in range((len(monthly) - 2) // 12 + 1):
        chunk = monthly[1 + 12 * y : 13 + 12 * y]
        if not chunk:
            break
        out.append(
            {
                "year": y + 1,
                "occupancy": sum(r["occupancy"] for r in chunk) / len(chunk),
                "billed": sum(float(r["billed"]) for r in chunk),
                "pool": sum(float(r["pool_revenue"]) for r in chunk),
                "sla": sum(float(r["sla_credits"]) for r in chunk),
                "fcf": sum(r["fcf"] for r in chunk),
                "signed": sum(r["signed"] for r in chunk),
                "lost": sum(r["lost_price"] + r["lost_capacity"] for r in chunk),
            }
        )
    return out


def charts(record: TwinRunRecord) -> dict[str, str]:
    monthly, summary = record.monthly, record.summary or {}
    months = [r["month"] for r in monthly]
    pnl = chart(
        [
            {"type": "bar", "x": months, "y": [float(r["rent"]) + float(r["sla_credits"])
                                               for r in monthly], "name": N_("bare-metal rent")},
            {"type": "bar", "x": months, "y": [float(r["pool_revenue"]) for r in monthly],
             "name": N_("cloud pool")},
            {"type": "scatter", "mode": "lines", "x": months, "y": [r["fcf"] for r in monthly],
             "name": N_("free cash flow")},
        ],
        N_("Monthly billed revenue and free cash flow (path 0)"), N_("month"), N_("CNY, net of VAT"),
        barmode="stack",
    )  # fmt: skip
    occupancy = chart(
        [
            {"type": "scatter", "mode": "lines", "x": months,
             "y": [100 * r["occupancy"] for r in monthly], "name": N_("occupancy")},
            {"type": "scatter", "mode": "lines", "x": months,
             "y": [100 * r["pool_utilization"] for r in monthly], "name": N_("pool utilisation"),
             "line": {"dash": "dot"}},
        ],
        N_("Occupancy (path 0)"), N_("month"), "%", yaxis={"title": {"text": "%"}, "range": [0, 100]},
    )  # fmt: skip
    fan = summary.get("fan", {}).get("cumulative_cash", {})
    x = list(range(len(fan.get("0.5", []))))
    fan_chart = chart(
        [
            {"type": "scatter", "mode": "lines", "x": x, "y": fan.get("0.95", []),
             "line": {"width": 0}, "showlegend": False, "name": N_("P95")},
            {"type": "scatter", "mode": "lines", "x": x, "y": fan.get("0.05", []),
             "fill": "tonexty", "fillcolor": "rgba(31,78,121,0.2)", "line": {"width": 0},
             "name": N_("P5–P95")},
            {"type": "scatter", "mode": "lines", "x": x, "y": fan.get("0.5", []),
             "name": N_("median")},
        ],
        _("Cumulative cash over %(n)d path(s)") % {"n": record.paths}, N_("month"), N_("CNY"),
    )  # fmt: skip
    return {"pnl_chart": pnl, "occupancy_chart": occupancy, "fan_chart": fan_chart}


def _run_context(record: TwinRunRecord) -> dict[str, Any]:
    done = record.summary is not None
    return {
        "run": record,
        "years": yearly(record.monthly) if done else [],
        **(charts(record) if done else {}),
    }


@router.get("/twin/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, run_id: str) -> HTMLResponse:
    denied = _operator(request)
    if denied is not None:
        return denied
    try:
        record = _runs(request).get(run_id)
    except SuanliError as exc:
        return partial(request, "error.html", 404, title=_("Not found"), message=exc.message,
                       user=request.state.user)  # fmt: skip
    return page(request, "twin_run.html", "twin", **_run_context(record))


@router.get("/twin/runs/{run_id}/status", response_class=HTMLResponse)
def run_status(request: Request, run_id: str) -> HTMLResponse:
    """The run's body for htmx polling (286 stops the polling once the run has finished)."""
    record = _runs(request).get(run_id)
    finished = record.status.value in ("done", "failed")
    return partial(request, "_twin_run.html", 286 if finished else 200, **_run_context(record))
