"""Operator pages: overview, fleet (table and server page), procurement.

Each handler reads domain values through the services on ``request.app.state.services``,
shapes them with :mod:`suanli.web.views` and renders a template. No business rule lives here.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from suanli.core.catalog import PConvention
from suanli.core.contracts import Contract
from suanli.core.errors import NotFoundError, SuanliError
from suanli.core.fleet import ServerState, Transition, parse_state
from suanli.core.i18n import N_, _
from suanli.services.container import Services
from suanli.services.fleet.servers import ServerFilter
from suanli.web import money_views as mv
from suanli.web import views
from suanli.web.ops_alerts import ops_alerts
from suanli.web.render import STATE_COLORS, axis_range, chart, page, partial

router = APIRouter(include_in_schema=False)
PER_PAGE = 50


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


@router.get("/", response_class=HTMLResponse)
def overview(request: Request) -> HTMLResponse:
    svc = services(request)
    view = views.overview(svc)
    states = list(view.by_state)
    state_chart = (
        ""
        if not any(view.by_state.values())
        else chart(
            [
                {
                    "type": "bar",
                    "x": [_(s) for s in states],  # customdata keeps the link per state
                    "y": [view.by_state[s] for s in states],
                    "marker": {"color": [STATE_COLORS[s] for s in states]},
                    "name": N_("servers"),
                    "customdata": [views.state_href(s) for s in states],
                }
            ],
            N_("Servers by state (ordered and cancelled include purchase-order units)"),
            N_("lifecycle state"),
            N_("servers (count)"),
        )
    )
    days = [p.day.isoformat() for p in view.trend]
    occ = [None if p.occupancy is None else round(p.occupancy * 100, 2) for p in view.trend]
    trend_data: list[dict[str, Any]] = [
        {"type": "scatter", "mode": "lines", "x": days, "y": occ, "name": N_("occupancy %")}
    ]
    if view.breakeven_occupancy is not None and any(v is not None for v in occ):
        be = round(view.breakeven_occupancy * 100, 2)
        trend_data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": [days[0], days[-1]],
                "y": [be, be],
                "name": N_("break-even"),
                "line": {"dash": "dash", "color": "#b83232"},
            }
        )
    trend_chart = chart(
        trend_data, N_("Occupancy"), N_("day (UTC)"), N_("occupancy (% of sellable servers)"),
        yaxis={"range": [0, 100]},
    )  # fmt: skip
    servers = views.all_servers(svc)
    today = svc.clock.now().date()
    contracts = mv.contracts(svc)
    events = mv.sla_events(svc)
    view.alerts.extend(mv.money_alerts(svc, today, contracts))
    view.alerts.extend(ops_alerts(svc, servers, contracts, events))
    figures = mv.monthly(svc, today, servers)
    recent = mv.recent(mv.invoices(svc), today, 3)
    credits = mv.sla_credits(svc, mv.with_sla_downtime(recent, events, contracts))
    return page(
        request,
        "overview.html",
        "overview",
        view=view,
        today=today,
        reference=views.REFERENCE_SCENARIO,
        state_href=views.state_href,
        state_chart=state_chart,
        trend_chart=trend_chart,
        revenue_chart=_revenue_chart(figures),
        figures=figures,
        credits=credits,
        credited=-sum((c.net for c in credits), Decimal(0)),
        utilization_chart=_utilization_chart(svc, svc.clock.now(), view, mv.pool_gpus(servers)),
    )


def _revenue_chart(figures: list[mv.MonthFigures]) -> str:
    if not any(f.billed or f.recognised for f in figures):
        return ""  # nothing billed or recognised yet: the page says so
    months = [f.period for f in figures]
    margin = [None if f.gross_margin is None else round(f.gross_margin * 100, 1) for f in figures]
    return chart(
        [
            {
                "type": "bar",
                "name": N_("billed"),
                "x": months,
                "y": [float(f.billed) for f in figures],
            },
            {
                "type": "bar",
                "name": N_("recognised"),
                "x": months,
                "y": [float(f.recognised) for f in figures],
            },
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": N_("gross margin % (est.)"),
                "x": months,
                "y": margin,
                "yaxis": "y2",
            },
        ],
        N_("Monthly billed and recognised revenue, gross margin"),
        N_("month"),
        N_("revenue (CNY, net of VAT)"),
        barmode="group",
        yaxis2={
            "title": {"text": "gross margin (%)"},
            "overlaying": "y",
            "side": "right",
            "range": axis_range(margin, -100, 100, 50),
            "dtick": 50,
        },
        margin={"l": 60, "r": 50, "t": 40, "b": 50},
    )


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _utilization_chart(svc: Services, now: datetime, view: views.Overview, pool_gpus: int) -> str:
    days = [p.day for p in view.trend][-60:]
    util = mv.pool_utilization(svc, now, len(days), pool_gpus)
    occ = {p.day: p.occupancy for p in view.trend}
    return chart(
        [
            {
                "type": "scatter",
                "mode": "lines",
                "name": N_("occupancy % (fleet)"),
                "x": [d.isoformat() for d in days],
                "y": [_pct(occ[d]) for d in days],
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": N_("cloud pool utilization % (to the last metered hour)"),
                "x": [d.isoformat() for d, _ in util],
                "y": [_pct(u) for _, u in util],
            },
        ],
        N_("Occupancy and cloud pool utilization, last 60 days"),
        N_("day (UTC)"),
        N_("share (%)"),
        yaxis={"range": [0, 100]},
    )


def _filter(
    state: str | None, sku: str | None, site: str | None, supplier: str | None
) -> ServerFilter:
    return ServerFilter(
        state=parse_state(state) if state else None,
        sku=sku or None,
        site=site or None,
        supplier=supplier or None,
    )


@router.get("/fleet", response_class=HTMLResponse)
def fleet(
    request: Request,
    state: str | None = None,
    sku: str | None = None,
    site: str | None = None,
    supplier: str | None = None,
    page_no: Annotated[int, Query(alias="page", ge=1)] = 1,
) -> HTMLResponse:
    svc = services(request)
    context = _fleet_context(svc, state, sku, site, supplier, page_no)
    template = "_fleet_table.html" if request.headers.get("HX-Request") else "fleet.html"
    if template == "_fleet_table.html":
        return partial(request, template, **context)
    return page(
        request,
        "fleet.html",
        "fleet",
        states=[s.value for s in ServerState],
        skus=sorted({s.sku for s in views.all_servers(svc)}),
        sites=[s.code for s in svc.fleet.list_sites()],
        suppliers=[s.name for s in svc.procurement.list_suppliers()],
        **context,
    )


def _fleet_context(
    svc: Services,
    state: str | None,
    sku: str | None,
    site: str | None,
    supplier: str | None,
    page_no: int,
) -> dict[str, Any]:
    query = {"state": state or "", "sku": sku or "", "site": site or "", "supplier": supplier or ""}
    try:
        result = svc.fleet.list_servers(
            _filter(state, sku, site, supplier), limit=PER_PAGE, offset=(page_no - 1) * PER_PAGE
        )
        error = None
    except SuanliError as exc:
        result, error = None, exc.message
    pages = max(1, -(-result.total // PER_PAGE)) if result else 1
    qs = "&".join(f"{k}={v}" for k, v in query.items() if v)
    return {
        "result": result,
        "error": error,
        "query": query,
        "page_no": page_no,
        "pages": pages,
        "qs": qs,
    }


@router.get("/fleet/{serial}", response_class=HTMLResponse)
def server_page(request: Request, serial: str) -> HTMLResponse:
    svc = services(request)
    try:
        server = svc.fleet.get_server(serial)
    except NotFoundError as exc:
        user = request.state.user
        return partial(
            request, "error.html", 404, title=_("Not found"), message=exc.message, user=user
        )
    history = views.all_transitions(svc, serial)
    leases = [c for c in mv.contracts(svc) if serial in c.servers]
    sla = [e for e in mv.sla_events(svc) if e.serial == serial]
    contracts = {e.contract for e in sla}
    mine = [c for c in leases if c.number in contracts]
    credits = [
        credit
        for code in sorted({c.customer for c in mine})
        for credit in mv.sla_credits(
            svc, mv.with_sla_downtime(mv.invoices(svc, customer=code), sla, mine)
        )
        if credit.description.split(" ", 1)[0] in contracts
    ]
    return page(
        request,
        "server.html",
        "fleet",
        title=_("Server %(serial)s") % {"serial": serial},
        server=server,
        history=history,
        incidents=views.downtime_incidents(history, svc.clock.now()),
        sla=sla,
        credits=credits,
        timeline=_timeline(history, svc.clock.now(), leases),
        leases=leases,
        sku=svc.catalog.sku(server.sku),
        p_sparse=svc.catalog.sku(server.sku).petaflops(PConvention.FP16_SPARSE),
        p_dense=svc.catalog.sku(server.sku).petaflops(PConvention.BF16_DENSE),
    )


def _timeline(history: list[Transition], now: datetime, leases: list[Contract]) -> str:
    """A Gantt of the server's states (one bar per stay in a state) and of its leases."""
    bars: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "base": [c.start_date.isoformat()],
            "x": [(c.end_date - c.start_date).days * 86_400_000],
            "y": [_("lease %(contract)s") % {"contract": c.number}],
            "name": c.number,
            "marker": {"color": "#6b4fa0"},
            "showlegend": False,
            "hovertemplate": f"{c.number} {c.customer}: {c.start_date} → {c.end_date}<extra></extra>",
        }
        for c in leases
    ]
    for i, t in enumerate(history):
        end = history[i + 1].at if i + 1 < len(history) else now
        start_ms = t.at.isoformat()
        bars.append(
            {
                "type": "bar",
                "orientation": "h",
                "base": [start_ms],
                "x": [max((end - t.at).total_seconds() * 1000, 3_600_000)],
                "y": [_(t.to_state.value)],
                "name": t.to_state.value,
                "marker": {"color": STATE_COLORS[t.to_state.value]},
                "showlegend": False,
                "hovertemplate": f"{_(t.to_state.value)}: {t.at:%Y-%m-%d} → {end:%Y-%m-%d}<extra></extra>",
            }
        )
    return chart(
        bars,
        N_("Lifecycle timeline"),
        N_("date (UTC)"),
        N_("lifecycle state / lease"),
        xaxis={"type": "date"},
        barmode="overlay",
    )


@router.get("/procurement", response_class=HTMLResponse)
def procurement(request: Request) -> HTMLResponse:
    svc = services(request)
    summary = svc.procurement.summary()
    overdue = svc.procurement.overdue(svc.clock.now().date())
    numbers = [o.number for o in summary.orders]
    bars = [
        {
            "type": "bar",
            "name": name,
            "x": numbers,
            "y": [getattr(o, name).units for o in summary.orders],
        }
        for name in ("delivered", "outstanding", "cancelled")
    ]
    p_bars = [
        {
            "type": "bar",
            "name": name,
            "x": numbers,
            "y": [round(getattr(o, name).p_fp16_sparse, 1) for o in summary.orders],
        }
        for name in ("delivered", "outstanding", "cancelled")
    ]
    return page(
        request,
        "procurement.html",
        "procurement",
        summary=summary,
        overdue=overdue,
        orders=svc.procurement.list_orders(),
        today=svc.clock.now().date(),
        units_chart=chart(
            bars,
            N_("Ordered servers by status"),
            N_("purchase order"),
            N_("servers (count)"),
            barmode="stack",
        ),
        p_chart=chart(
            p_bars,
            N_("Ordered P (FP16 sparse) by status"),
            N_("purchase order"),
            N_("P (petaFLOPS, FP16 sparse)"),
            barmode="stack",
        ),
    )
