"""Contracts & customers, the customer page and billing (issue 6's services).

Every query passes the signed-in principal down, so a customer user sees only its own
contracts, invoices and payments, and another customer's page is a 404 like in the API.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from suanli.core.billing import AGING_BUCKETS, midnight, month_of
from suanli.core.contracts import Contract
from suanli.core.errors import NotFoundError
from suanli.core.i18n import N_, _
from suanli.services.billing.tokens import DailyTokens
from suanli.services.container import Services
from suanli.services.tenancy import Principal, Role
from suanli.web import money_views as mv
from suanli.web.render import chart, page, partial, series_colors
from suanli.web.views import all_servers

router = APIRouter(include_in_schema=False)
TOKEN_DAYS = timedelta(days=31)


def _ctx(request: Request) -> tuple[Services, Principal, date]:
    svc: Services = request.app.state.services
    principal: Principal = request.state.user
    return svc, principal, svc.clock.now().date()


def customer_colors(codes: Iterable[str]) -> dict[str, str]:
    """One distinct colour per customer, stable for a set of customers (sorted by code)."""
    ordered = sorted(set(codes))
    return dict(zip(ordered, series_colors(len(ordered)), strict=True))


def gantt(contracts: list[Contract], today: date, color: dict[str, str] | None = None) -> str:
    color = color or customer_colors(c.customer for c in contracts)
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
    return chart(bars, N_("Lease calendar"), N_("date (UTC)"), N_("contract"), xaxis={"type": "date"}, shapes=[line],
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
    # one colour per customer on both charts of the page
    color = customer_colors([*per_customer, *(c.customer for c in contracts)])
    revenue_bars = [
        {
            "type": "bar",
            "name": code,
            "x": months,
            "y": [float(by.get(m, 0)) for m in months],
            "marker": {"color": color[code]},
        }
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
        title=_("Contracts & customers"),
        today=today,
        contracts=contracts,
        renewals=mv.expiring(contracts, today, 90),
        totals=totals,
        gantt=gantt(contracts, today, color) if contracts else None,
        revenue_chart=chart(
            revenue_bars,
            N_("Billed revenue per customer (net of VAT)"),
            N_("service month"),
            N_("billed (CNY, net of VAT)"),
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
            request, "error.html", 404, title=_("Not found"), message=exc.message, user=principal
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
        title=_("Customer %(name)s") % {"name": customer.name},
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


def _not_found(request: Request, exc: NotFoundError, principal: Principal) -> HTMLResponse:
    return partial(
        request, "error.html", 404, title=_("Not found"), message=exc.message, user=principal
    )


@router.get("/invoices/{number}", response_class=HTMLResponse)
def invoice_page(request: Request, number: str) -> HTMLResponse:
    """One invoice or credit note with every line (SLA credits marked), the credit notes
    against it and the payments applied to it."""
    svc, principal, today = _ctx(request)
    try:
        invoice = svc.money.ledger.get_invoice(number, principal)
    except NotFoundError as exc:
        return _not_found(request, exc, principal)
    same_customer = mv.invoices(svc, principal, invoice.customer)
    allocations = (
        svc.money.ledger.allocations(number, principal) if invoice.kind == "invoice" else []
    )
    return page(
        request,
        "invoice.html",
        "billing",
        title=(
            _("Credit note %(number)s")
            if invoice.kind == "credit_note"
            else _("Invoice %(number)s")
        )
        % {"number": number},
        invoice=invoice,
        today=today,
        credit_notes=mv.credit_notes_for(same_customer, number),
        allocations=allocations,
        paid=sum((a.amount for a in allocations), Decimal(0)),
        sla_credit=sum((ln.net for ln in invoice.lines if ln.kind == "sla_credit"), Decimal(0)),
    )


@router.get("/customers/{code}/usage", response_class=HTMLResponse)
def usage_page(request: Request, code: str) -> HTMLResponse:
    """A customer's metered cloud usage by day and product (SKU and priority class)."""
    svc, principal, today = _ctx(request)
    try:
        customer = svc.money.tenancy.get_customer(code, principal)
    except NotFoundError as exc:
        return _not_found(request, exc, principal)
    records = mv.customer_usage(svc, code, principal)
    products, days = mv.usage_by_day(records)
    colors = dict(zip(products, series_colors(len(products)), strict=True))
    bars = [
        {
            "type": "bar",
            "name": name,
            "x": [d.day.isoformat() for d in days],
            "y": [round(d.gpu_hours.get(name, 0.0), 2) for d in days],
            "marker": {"color": colors[name]},
        }
        for name in products
    ]
    return page(
        request,
        "usage.html",
        "contracts",
        title=_("Usage of %(name)s") % {"name": customer.name},
        customer=customer,
        today=today,
        products=products,
        days=days,
        records=len(records),
        totals={p: sum(d.gpu_hours.get(p, 0.0) for d in days) for p in products},
        usage_chart=chart(
            bars,
            N_("Metered GPU-hours per day and product"),
            N_("day (UTC)"),
            N_("GPU-hours"),
            barmode="stack",
            xaxis={"type": "date"},
        ),
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
    if not any(f.billed or f.recognised or f.collected for f in figures):
        return ""
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
        N_("Billed vs recognised vs collected (net of VAT; collected is cash)"),
        N_("month"),
        N_("amount (CNY)"),
        barmode="group",
    )


def aging_chart(totals: dict[str, Decimal]) -> str:
    """Open receivables per age bucket; ``""`` (the "no open invoices" sentence) when none."""
    if not any(totals.values()):
        return ""
    colors = ["#6aa84f", "#e0b04a", "#d9822b", "#b83232"]
    return chart(
        [
            {
                "type": "bar",
                "x": list(AGING_BUCKETS),
                "y": [float(totals[b]) for b in AGING_BUCKETS],
                "marker": {"color": colors},
                "name": N_("open"),
            }
        ],
        N_("Receivables by age (days since invoice)"),
        N_("age (days since the invoice date)"),
        N_("open (CNY, incl. VAT)"),
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
        N_("Tokens served by day (UTC), last 31 days"),
        N_("day"),
        N_("million tokens"),
        barmode="stack",
    )
