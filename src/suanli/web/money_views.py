"""Figures of the contracts, billing and customer pages and of the overview's money parts,
computed from the leasing, metering and billing services (issue 6); no SQL here.

- *billed* = net (VAT excluded) of invoices and credit notes by issue month;
- *recognised* = ``BillingService.revenue`` of the month (service delivered in the month);
- *collected* = payments and prepayments received in the month (deposits are held, not revenue);
- *gross margin (estimated)* = (recognised − cost of revenue) / recognised, where the cost is
  straight-line depreciation of the installed servers' purchase price over the reference
  scenario's life plus their power and colocation at the reference scenario's opex figures;
- *cloud pool utilization* = metered GPU-seconds spread over each record's run, per day, over
  the pool's GPU-seconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Protocol, TypeVar

from suanli.core.billing import AGING_BUCKETS, Period, month_of
from suanli.core.contracts import Contract, SlaEvent
from suanli.core.fleet import Server, ServerState
from suanli.core.i18n import _
from suanli.core.ledger import Invoice, Payment
from suanli.economics.depreciation import kernel
from suanli.economics.library import load_bundled
from suanli.services.billing.metering import UsageRecord
from suanli.services.billing.receivables import AgingRow
from suanli.services.container import Services
from suanli.services.tenancy import SYSTEM, Principal
from suanli.web.views import NOT_INSTALLED, REFERENCE_SCENARIO, Alert

PAGE = 500
T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
ZERO = Decimal(0)
EXPIRY_DAYS = 60
OLD_DAYS_BUCKET = AGING_BUCKETS[-1]  # "90+"


@dataclass(frozen=True, slots=True)
class MonthFigures:
    period: str
    billed: Decimal
    recognised: Decimal
    collected: Decimal
    cost: Decimal

    @property
    def gross_margin(self) -> float | None:
        return float((self.recognised - self.cost) / self.recognised) if self.recognised else None


class Paged(Protocol[T_co]):
    @property
    def items(self) -> Sequence[T_co]: ...


def _pages(fetch: Callable[[int, int], Paged[T]]) -> list[T]:
    """Every item of a paginated listing (totals may be capped, so stop on a short page)."""
    items: list[T] = []
    while True:
        page = list(fetch(PAGE, len(items)).items)
        items.extend(page)
        if len(page) < PAGE:
            return items


def contracts(svc: Services, principal: Principal = SYSTEM) -> list[Contract]:
    """Every contract the principal may see, with its servers."""
    rows = _pages(
        lambda limit, offset: svc.money.leasing.list_contracts(
            principal, limit=limit, offset=offset
        )
    )
    return [svc.money.leasing.get_contract(c.number, principal) for c in rows]


def invoices(
    svc: Services, principal: Principal = SYSTEM, customer: str | None = None
) -> list[Invoice]:
    return _pages(
        lambda limit, offset: svc.money.ledger.list_invoices(
            principal, customer, limit=limit, offset=offset
        )
    )


def payments(
    svc: Services, principal: Principal = SYSTEM, customer: str | None = None
) -> list[Payment]:
    return _pages(
        lambda limit, offset: svc.money.ledger.list_payments(
            principal, customer, limit=limit, offset=offset
        )
    )


def months_between(first: date, last: date) -> list[Period]:
    out = []
    p = month_of(first)
    while p.start <= last:
        out.append(p)
        p = p.next()
    return out


def monthly(
    svc: Services, today: date, servers: list[Server], months: int = 8
) -> list[MonthFigures]:
    """Billed, recognised, collected and estimated cost for the last ``months`` months."""
    periods = months_between(month_of(today).start - timedelta(days=31 * (months - 1)), today)
    delivered = delivery_dates(svc)
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for inv in invoices(svc):
        billed[month_of(inv.issue_date).key] += inv.net
    collected: dict[str, Decimal] = defaultdict(Decimal)
    for pay in payments(svc):
        if pay.kind != "deposit":
            collected[month_of(pay.received_on).key] += pay.amount
    figures = [
        MonthFigures(
            p.key,
            billed[p.key],
            sum(svc.money.billing.revenue(p).values(), ZERO),
            collected[p.key],
            cost_of_revenue(svc, p, servers, delivered),
        )
        for p in periods
    ]
    while len(figures) > 2 and not (
        figures[0].billed or figures[0].recognised or figures[0].collected
    ):
        figures.pop(0)  # months before the business started
    return figures


def delivery_dates(svc: Services) -> dict[str, date]:
    """Serial → the date its delivery was recorded as happening (effective date)."""
    return {d.serial: d.delivered_on for d in svc.procurement.deliveries()}


def depreciation_in(price: Decimal, delivered: date, p: Period, k: Sequence[float]) -> Decimal:
    """Book depreciation of one server in ``p`` under the economics engine's monthly kernel
    ``k`` (fractions of cost, summing to 1 - salvage): the first charge falls in the month
    after delivery, as in :func:`suanli.economics.depreciation.apply`. Unrounded."""
    age = (p.start.year - delivered.year) * 12 + p.start.month - delivered.month
    return price * Decimal(repr(float(k[age - 1]))) if 1 <= age <= len(k) else ZERO


def cost_of_revenue(
    svc: Services,
    p: Period,
    servers: Iterable[Server],
    delivered: Mapping[str, date] | None = None,
) -> Decimal:
    """Depreciation + power + colocation in ``p`` of the servers in service by then (estimate
    under the reference scenario). A server is in service from its delivery date (``delivered``,
    serial → date; read when not given); one entered without a delivery (by hand, found in the
    cluster) from the day it was entered. Depreciation is the economics engine's: the
    scenario's method and life, down to its salvage value."""
    sc = load_bundled(REFERENCE_SCENARIO)
    opex = sc.opex
    dep = sc.depreciation
    k = kernel(dep.method, round(dep.years * 12), dep.salvage_pct).tolist()
    delivered = delivery_dates(svc) if delivered is None else delivered
    hours = Decimal(str(opex.hours_per_month))
    energy = Decimal(str(opex.power_price_kwh * opex.pue * opex.load_factor)) * hours
    cabinet = Decimal(str(opex.cabinet_fee)) if opex.cabinet_fee_unit == "server_month" else ZERO
    total = ZERO
    for s in servers:
        since = delivered.get(s.serial, s.created_at.date())
        if s.state in NOT_INSTALLED or since >= p.end:
            continue
        price = s.purchase_price or ZERO
        total += depreciation_in(price, since, p, k) + s.nameplate_kw * energy + cabinet
    return total.quantize(Decimal("0.01"))


def expiring(items: Iterable[Contract], today: date, days: int = EXPIRY_DAYS) -> list[Contract]:
    return sorted(
        (
            c
            for c in items
            if c.status == "active" and today <= c.end_date <= today + timedelta(days=days)
        ),
        key=lambda c: c.end_date,
    )


def _in_days(n: int) -> str:
    return _("today") if n == 0 else _("tomorrow") if n == 1 else _("in %(n)d days") % {"n": n}


def money_alerts(svc: Services, today: date, items: list[Contract] | None = None) -> list[Alert]:
    out = [
        Alert(
            "contract_expiring",
            "warning",
            _("%(contract)s (%(customer)s, %(n)d × %(sku)s) ends %(end)s, %(when)s")
            % {
                "contract": c.number,
                "customer": c.customer,
                "n": c.server_count,
                "sku": c.sku,
                "end": c.end_date.isoformat(),
                "when": _in_days((c.end_date - today).days),
            }
            + (_(" (auto-renews)") if c.auto_renew else ""),
            f"/customers/{c.customer}",
        )
        for c in expiring(contracts(svc) if items is None else items, today)
    ]
    for row in svc.money.ledger.aging(today):
        old = row.buckets.get(OLD_DAYS_BUCKET, ZERO)
        if old > 0:
            out.append(
                Alert(
                    "receivable_90",
                    "danger",
                    _("%(customer)s owes %(amount)s on invoices older than 90 days")
                    % {"customer": row.customer, "amount": f"{old:,.2f}"},
                    f"/customers/{row.customer}",
                )
            )
    return out


def aging(
    svc: Services, today: date, principal: Principal = SYSTEM
) -> tuple[list[AgingRow], dict[str, Decimal]]:
    rows = svc.money.ledger.aging(today, principal)
    totals = {b: sum((r.buckets[b] for r in rows), ZERO) for b in AGING_BUCKETS}
    return rows, totals


def pool_utilization(
    svc: Services, now: datetime, days: int, pool_gpus: int
) -> list[tuple[date, float | None]]:
    """Share of the cloud pool's GPU-seconds metered on each of the last ``days`` days."""
    first = now.date() - timedelta(days=days - 1)
    since = datetime.combine(first - timedelta(days=3), datetime.min.time(), tzinfo=UTC)
    records = _pages(
        lambda limit, offset: svc.money.metering.list_usage(since=since, limit=limit, offset=offset)
    )
    spans = [(r.started_at, r.ended_at, float(r.gpu_seconds)) for r in records]
    return daily_utilization(spans, now, days, pool_gpus)


def daily_utilization(
    spans: Iterable[tuple[datetime, datetime, float]], now: datetime, days: int, pool_gpus: int
) -> list[tuple[date, float | None]]:
    """GPU-seconds of ``(start, end, gpu_seconds)`` spread evenly over each span, per day, over
    the pool's GPU-seconds of that day. The data end where metering ends (the latest record's
    end, at most ``now``): that day counts only its metered hours, later days are unknown
    (None). A partial last day is a share of the hours metered, not a crash to a third."""
    spans = list(spans)
    first = now.date() - timedelta(days=days - 1)
    if not spans:
        return [(first + timedelta(days=k), None) for k in range(days)]
    through = min(now, max(stop for _, stop, _ in spans))
    used: dict[date, float] = defaultdict(float)
    for start, stop, gpu_seconds in spans:
        span = (stop - start).total_seconds()
        if span <= 0:
            continue
        gpus = gpu_seconds / span
        end = min(stop, through)
        t = start
        while t < end:
            nxt = min(
                datetime.combine(t.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
                end,
            )
            used[t.date()] += gpus * (nxt - t).total_seconds()
            t = nxt
    midnight = datetime.combine(through.date(), datetime.min.time(), tzinfo=UTC)
    out: list[tuple[date, float | None]] = []
    for k in range(days):
        day = first + timedelta(days=k)
        seconds = (through - midnight).total_seconds() if day == through.date() else 86400.0
        capacity = pool_gpus * seconds if day <= through.date() else 0.0
        out.append((day, used[day] / capacity if capacity > 0 else None))
    return out


def pool_gpus(servers: Iterable[Server]) -> int:
    return sum(s.gpu_count for s in servers if s.state is ServerState.CLOUD_POOL)


# --- drill-down --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageDay:
    day: date
    gpu_hours: dict[str, float]  # product → GPU-hours

    @property
    def total(self) -> float:
        return sum(self.gpu_hours.values())


def product(record: UsageRecord) -> str:
    """What the customer bought: the SKU and the priority class (``HGX-H800-8 standard``)."""
    return f"{record.sku} {record.priority_class}"


def usage_by_day(records: Iterable[UsageRecord]) -> tuple[list[str], list[UsageDay]]:
    """GPU-hours per UTC day and product, each record spread evenly over its run (a record that
    spans midnight counts on both days). Products sorted; days ascending, only days with use."""
    per_day: dict[date, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in records:
        span = (r.ended_at - r.started_at).total_seconds()
        if span <= 0:
            per_day[r.started_at.date()][product(r)] += float(r.gpu_seconds) / 3600
            continue
        rate = float(r.gpu_seconds) / span
        t = r.started_at
        while t < r.ended_at:
            nxt = min(
                datetime.combine(t.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC),
                r.ended_at,
            )
            per_day[t.date()][product(r)] += rate * (nxt - t).total_seconds() / 3600
            t = nxt
    products = sorted({p for by in per_day.values() for p in by})
    return products, [UsageDay(d, dict(per_day[d])) for d in sorted(per_day)]


def customer_usage(svc: Services, code: str, principal: Principal = SYSTEM) -> list[UsageRecord]:
    return _pages(
        lambda limit, offset: svc.money.metering.list_usage(
            principal, code, limit=limit, offset=offset
        )
    )


def credit_notes_for(invoices: Iterable[Invoice], number: str) -> list[Invoice]:
    return [i for i in invoices if i.kind == "credit_note" and i.credited_invoice == number]


@dataclass(frozen=True, slots=True)
class SlaCredit:
    invoice: str
    customer: str
    period: str | None
    line_no: int
    description: str
    net: Decimal


def sla_credits(
    svc: Services, invoices: Iterable[Invoice], principal: Principal = SYSTEM
) -> list[SlaCredit]:
    """Every SLA-credit line of ``invoices`` (newest invoice first); reads each invoice's lines."""
    out = []
    for inv in sorted(invoices, key=lambda i: (i.issue_date, i.number), reverse=True):
        if inv.kind != "invoice":
            continue
        for ln in svc.money.ledger.get_invoice(inv.number, principal).lines:
            if ln.kind == "sla_credit":
                out.append(
                    SlaCredit(inv.number, inv.customer, inv.period, ln.line_no, ln.description,
                              ln.net)
                )  # fmt: skip
    return out


def with_sla_downtime(
    invoices: Iterable[Invoice], events: Iterable[SlaEvent], contracts: Iterable[Contract]
) -> list[Invoice]:
    """The invoices that can carry an SLA credit: those of customers with SLA downtime, for a
    service month not before the customer's first downtime (saves reading every invoice's
    lines)."""
    customer = {c.number: c.customer for c in contracts}
    first: dict[str, str] = {}
    for e in events:
        code = customer.get(e.contract)
        if code is not None:
            key = month_of(e.down_from.date()).key
            first[code] = min(first.get(code, key), key)
    return [i for i in invoices if i.customer in first and (i.period or "") >= first[i.customer]]


def recent(invoices: Iterable[Invoice], today: date, months: int) -> list[Invoice]:
    """Invoices issued in the last ``months`` calendar months (this one included)."""
    first = months_between(month_of(today).start - timedelta(days=31 * (months - 1)), today)[0]
    return [i for i in invoices if i.issue_date >= first.start]


def sla_events(
    svc: Services, principal: Principal = SYSTEM, customer: str | None = None
) -> list[SlaEvent]:
    return _pages(
        lambda limit, offset: svc.money.leasing.list_sla_events(
            principal, customer, limit=limit, offset=offset
        )
    )
