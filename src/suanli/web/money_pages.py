"""Contracts & customers, the customer page and billing (issue 6's services).

Every query passes the signed-in principal down, so a customer user sees only its own
contracts, invoices and payments, and another customer's page is a 404 like in the API.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from suanli.core.billing import AGING_BUCKETS, midnight, month_of
from suanli.core.contracts import Contract
from suanli.core.errors import NotFoundError
from suanli.services.billing.tokens import DailyTokens
from suanli.services.container import Services
from suanli.services.tenancy import Principal, Role
from suanli.web import money_views as mv
from suanli.web.render import COLORS, chart, page, partial
from suanli.web.views import all_servers

router = APIRouter(include_in_schema=False)
TOKEN_DAYS = timedelta(days=31)


def _ctx(request: Request) -> tuple[Services, Principal, date]:
    svc: Services = request.app.state.services
    principal: Principal = request.state.user
    return svc, principal, svc.clock.now().date()


def gantt(contracts: list[Contract], today: date) -> str:
    customers = sorted({c.customer for c in contracts})
    color = {code: COLORS[i % len(COLORS)] for i, code in enumerate(customers)}
    bars: list[dict[str, Any]] = []
    for c in sorted(contracts, key=lambda c: c.start_date, reverse=True):
        days = (c.end_date - c.start_date).days
        bars.append(
            {
                "type": "bar",
                "orientation": "h",
                "base": [c.start_date.isoformat()],
                "x": [days * 86_400_000],
                "y": [f"{c.number} {c.customer}"],
                "marker": {"color": color[c.customer]},
                "name": c.customer,
                "showlegend": False,
                "hovertemplate": f"{c.number} {c.customer}: {c.server_count} × {c.sku}, "
                f"{c.start_date} → {c.end_date}<extra></extra>",
            }
        )
    line = {"type": "line", "x0": today.isoformat(), "x1": today.isoformat(), "yref": "paper",
            "y0": 0, "y1": 1, "line": {"color": "#b83232", "dash": "dash"}}  # fmt: skip
    return chart(bars, "Lease calendar", "date", "", xaxis={"type": "date"}, shapes=[line],
                 barmode="overlay", margin={"l": 150, "r": 20, "t": 40, "b": 40})  # fmt: skip


@router.get("/contracts", response_class=HTMLResponse)
def contracts_page(request: Request) -> HTMLResponse:
    svc, principal, today = _ctx(request)
    contracts = mv.contracts(svc, principal)
    invoices = mv.invoices(svc, principal)
    months = sorted({i.period for i in invoices if i.period})
    per_customer: dict[str, dict[str, Decimal]] = {}
    for inv in invoices:
        if inv.period:
            per_customer.setdefault(inv.customer, {}).setdefault(inv.period, Decimal(0))
            per_customer[inv.customer][inv.period] += inv.net
    revenue_bars = [
        {"type": "bar", "name": code, "x": months, "y": [float(by.get(m, 0)) for m in months]}
        for code, by in sorted(per_customer.items())
    ]
    totals = sorted(
        ((code, sum(by.values(), Decimal(0))) for code, by in per_customer.items()),
        key=lambda kv: kv[1],
        reverse=True,
    )
    return page(
        request,
        "contracts.html",
        "contracts",
        title="Contracts & customers",
        today=today,
        contracts=contracts,
        renewals=mv.expiring(contracts, today, 90),
        totals=totals,
        gantt=gantt(contracts, today) if contracts else None,
        revenue_chart=chart(
            revenue_bars,
            "Billed revenue per customer (net of VAT)",
            "service month",
            "CNY",
            barmode="stack",
        )
        if revenue_bars
        else None,
        notice=lambda c: c.end_date - timedelta(days=c.notice_days),
    )


@router.get("/customers/{code}", response_class=HTMLResponse)
def customer_page(request: Request, code: str) -> HTMLResponse:
    svc, principal, today = _ctx(request)
    try:
        customer = svc.money.tenancy.get_customer(code, principal)
    except NotFoundError as exc:
        return partial(
            request, "error.html", 404, title="Not found", message=exc.message, user=principal
        )
    contracts = [c for c in mv.contracts(svc, principal) if c.customer == code]
    invoices = mv.invoices(svc, principal, code)
    payments = mv.payments(svc, principal, code)
    aging = svc.money.ledger.aging(today, principal, code)
    sla = svc.money.leasing.list_sla_events(principal, code, limit=500).items
    usage = svc.money.metering.list_usage(principal, code, limit=1)
    tokens = svc.money.tokens.daily(principal, code, since=midnight(today - TOKEN_DAYS))
    return page(
        request,
        "customer.html",
        "contracts",
        title=f"Customer {customer.name}",
        customer=customer,
        today=today,
        contracts=contracts,
        invoices=invoices,
        payments=payments,
        aging=aging[0] if aging else None,
        buckets=AGING_BUCKETS,
        sla=sla,
        usage_records=usage.total,
        token_days=tokens,
        token_chart=token_chart(tokens) if tokens else None,
        gantt=gantt(contracts, today) if contracts else None,
        outstanding=sum((i.outstanding for i in invoices), Decimal(0)),
    )


@router.get("/billing", response_class=HTMLResponse)
def billing_page(request: Request) -> HTMLResponse:
    svc, principal, today = _ctx(request)
    invoices = mv.invoices(svc, principal)
    rows, totals = mv.aging(svc, today, principal)
    # The month-by-month ledger figures are company-wide: staff only.
    figures = None if principal.role is Role.CUSTOMER else mv.monthly(svc, today, all_servers(svc))
    return page(
        request,
        "billing.html",
        "billing",
        today=today,
        invoices=sorted(invoices, key=lambda i: (i.issue_date, i.number), reverse=True),
        aging_rows=rows,
        aging_totals=totals,
        buckets=AGING_BUCKETS,
        figures=figures,
        flow_chart=flow_chart(figures) if figures else None,
        aging_chart=aging_chart(totals),
        this_month=month_of(today).key,
    )


def flow_chart(figures: list[mv.MonthFigures]) -> str:
    months = [f.period for f in figures]
    series = (("billed", "billed"), ("recognised", "recognised"), ("collected", "collected"))
    return chart(
        [
            {
                "type": "bar",
                "name": name,
                "x": months,
                "y": [float(getattr(f, attr)) for f in figures],
            }
            for name, attr in series
        ],
        "Billed vs recognised vs collected (net of VAT; collected is cash)",
        "month",
        "CNY",
        barmode="group",
    )


def aging_chart(totals: dict[str, Decimal]) -> str:
    colors = ["#6aa84f", "#e0b04a", "#d9822b", "#b83232"]
    return chart(
        [
            {
                "type": "bar",
                "x": list(AGING_BUCKETS),
                "y": [float(totals[b]) for b in AGING_BUCKETS],
                "marker": {"color": colors},
                "name": "open",
            }
        ],
        "Receivables by age (days since invoice)",
        "age",
        "CNY",
    )


def token_chart(days: list[DailyTokens]) -> str:
    """Tokens by day, stacked by tier (all models together)."""
    totals: dict[str, list[int]] = {}
    for d in days:
        row = totals.setdefault(d.day.isoformat(), [0, 0, 0])
        row[0] += d.input_tokens - d.cache_hit_tokens
        row[1] += d.cache_hit_tokens
        row[2] += d.output_tokens
    x = list(totals)
    tiers = ("input, cache miss", "input, cache hit", "output")
    return chart(
        [
            {"type": "bar", "name": name, "x": x, "y": [totals[k][i] / 1e6 for k in x]}
            for i, name in enumerate(tiers)
        ],
        "Tokens served by day (UTC), last 31 days",
        "day",
        "million tokens",
        barmode="stack",
    )
