"""The monthly invoice run and revenue recognition.

Single writer of ``invoices`` (run invoices), ``invoice_lines`` and ``invoice_series``.

- One transaction per customer invoice: the invoice, its lines, the usage records it bills, the
  number taken from its series and the prepayments applied to it commit together or not at all.
  An interrupted run therefore leaves complete invoices or nothing; running it again finishes
  the remaining customers and creates nothing for those already invoiced
  (``(customer_id, period_key)`` is unique).
- Invoice numbers ``INV-<year>-<n>`` come from ``invoice_series`` under a row lock held until
  commit, so they are sequential and gap-free per series even with concurrent runs.
- :class:`RunHooks` lets a caller observe each invoice just before its commit; tests inject a
  failing hook to prove the all-or-nothing property (no monkeypatching).
- Revenue for a month is computed from what was delivered (:func:`draft_lines` on usage that
  *occurred* in the month), not from what was billed; pass-through fees billed as agent and
  penalties/credits follow the rules in docs/billing.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol

from sqlalchemy import ARRAY, Integer, any_, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suanli.core.billing import (
    Period,
    contract_days,
    credited_seconds,
    downtime_seconds,
    gpu_hours,
    line_amount,
    prorated,
    served_days,
    true_up_hours,
    usage_amount,
)
from suanli.core.clock import Clock
from suanli.core.errors import ValidationError
from suanli.services.billing.metering import PriceBook, load_prices
from suanli.services.billing.numbering import lock_customer, next_number, serialise_writes
from suanli.services.billing.outstanding import apply_unapplied
from suanli.services.fleet.downtime import sync_downtime_in
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    ContractRow,
    CustomerRow,
    InvoiceLineRow,
    InvoiceRow,
    LeaseAllocationRow,
    SlaEventRow,
    UsageRecordRow,
)

RATE_PLACES = Decimal("0.00000001")
REVENUE_KINDS = frozenset({"rent", "fee", "usage", "true_up", "sla_credit", "penalty"})


class RunHooks(Protocol):
    def before_commit(self, customer: str, number: str) -> None: ...


class NoHooks:
    def before_commit(self, customer: str, number: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class DraftLine:
    kind: str
    description: str
    contract_id: int | None
    quantity: Decimal
    unit: str
    unit_price: Decimal
    exact_net: Decimal
    vat_rate: Decimal
    service_start: date | None = None
    service_end: date | None = None
    revenue: bool = True


@dataclass(slots=True)
class LeaseData:
    contract: ContractRow
    allocations: list[LeaseAllocationRow] = field(default_factory=list)
    outages: dict[int, list[tuple[datetime, datetime | None]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UsageItem:
    started_at: datetime
    sku: str
    priority_class: str
    gpu_seconds: Decimal


@dataclass(frozen=True, slots=True)
class RunResult:
    period: str
    created: list[str]
    skipped: list[str]
    empty: list[str]


# --- drafting (no writes) -------------------------------------------------------------------


def _lease_lines(p: Period, data: LeaseData, now: datetime) -> list[DraftLine]:
    c = data.contract
    span = (p.start, p.end - timedelta(days=1))
    days = sum(served_days(p, a.starts_at, a.ends_at, a.delivered_at) for a in data.allocations)
    lines: list[DraftLine] = []

    def per_day(monthly: Decimal) -> Decimal:
        return (monthly / p.days).quantize(RATE_PLACES)

    if days:
        lines.append(DraftLine("rent", f"{c.number} rent {c.sku}, {days} server-days", c.id,
                               Decimal(days), "server-day", per_day(c.monthly_rent),
                               prorated(c.monthly_rent, days, p), c.vat_rate, *span))  # fmt: skip
        for label, monthly in (("cabinet fee", c.cabinet_fee), ("O&M fee", c.om_fee)):
            if monthly > 0:
                lines.append(DraftLine("fee", f"{c.number} {label} (pass-through), {days} server-days",
                                       c.id, Decimal(days), "server-day", per_day(monthly),
                                       prorated(monthly, days, p), c.fee_vat_rate, *span,
                                       revenue=not c.fees_as_agent))  # fmt: skip
    credited = 0
    for alloc in data.allocations:
        down = downtime_seconds(p, data.outages.get(alloc.id, []), now)
        credited += credited_seconds(p, down, c.sla_uptime)
    if credited:
        hours = (Decimal(credited) / 3600).quantize(Decimal("0.001"))
        exact = -(c.monthly_rent * credited / p.seconds)
        lines.append(DraftLine("sla_credit", f"{c.number} SLA credit, {hours} server-hours down beyond {c.sla_uptime} uptime",
                               c.id, hours, "server-hour", -per_day(c.monthly_rent) / 24, exact, c.vat_rate, *span))  # fmt: skip
    if c.terminated_on and p.start <= c.terminated_on < p.end and c.termination_penalty:
        lines.append(DraftLine("penalty", f"{c.number} early termination on {c.terminated_on}", c.id,
                               Decimal(1), "each", c.termination_penalty, c.termination_penalty, c.vat_rate))  # fmt: skip
    return lines


def _reserved_true_up(p: Period, c: ContractRow, used_in_period: Decimal) -> list[DraftLine]:
    end = min(c.end_date, c.terminated_on or c.end_date)
    cdays = contract_days(p, c.start_date, end)
    if not cdays:
        return []
    short = true_up_hours(c.committed_gpus, cdays, c.min_commitment, used_in_period)
    if short <= 0:
        return []
    return [DraftLine("true_up", f"{c.number} minimum commitment true-up ({c.committed_gpus} GPUs × {c.min_commitment})",
                      c.id, short.quantize(Decimal("0.001")), "gpu-hour", c.gpu_hour_rate,
                      short * c.gpu_hour_rate, c.vat_rate, p.start, p.end - timedelta(days=1))]  # fmt: skip


def _usage_lines(
    usage: Iterable[UsageItem], reserved: Sequence[ContractRow], prices: PriceBook
) -> list[DraftLine]:
    groups: dict[tuple[str, str, str, int], Decimal] = defaultdict(Decimal)
    rates: dict[int, tuple[Decimal, Decimal, int | None]] = {}
    for u in usage:
        day = u.started_at.date()
        if u.priority_class == "reserved":
            c = next(
                (c for c in reserved if c.sku == u.sku and c.start_date <= day < c.end_date), None
            )
            if c is None:
                continue  # validated at ingestion; a contract deleted later would leave it unbilled
            key_id, rates[-c.id] = -c.id, (c.gpu_hour_rate, c.vat_rate, c.id)
        else:
            price = prices.at(u.sku, u.priority_class, day)
            if price is None:
                continue
            key_id, rates[price.id] = price.id, (price.gpu_hour_price, price.vat_rate, None)
        groups[(f"{day.year:04d}-{day.month:02d}", u.sku, u.priority_class, key_id)] += (
            u.gpu_seconds
        )
    lines = []
    for (month, sku, klass, key_id), seconds in sorted(groups.items()):
        rate, vat, contract_id = rates[key_id]
        lines.append(DraftLine("usage", f"{sku} {klass} GPU-hours, {month}", contract_id,
                               gpu_hours(seconds), "gpu-hour", rate, usage_amount(seconds, rate), vat))  # fmt: skip
    return lines


def draft_lines(
    p: Period,
    leases: Sequence[LeaseData],
    reserved: Sequence[ContractRow],
    usage: Sequence[UsageItem],
    reserved_used: dict[str, Decimal],
    prices: PriceBook,
    now: datetime,
) -> list[DraftLine]:
    """Every line of a customer's bill (or revenue) for ``p``, in a stable order."""
    lines: list[DraftLine] = []
    for data in leases:
        lines += _lease_lines(p, data, now)
    for c in reserved:
        lines += _reserved_true_up(p, c, reserved_used.get(c.sku, Decimal(0)))
    return lines + _usage_lines(usage, reserved, prices)


# --- loading --------------------------------------------------------------------------------


def overlapping_contracts(
    s: Session, p: Period, customer_ids: Iterable[int] | None = None
) -> list[ContractRow]:
    stmt = select(ContractRow).where(
        ContractRow.start_date < p.end,
        ContractRow.end_date > p.start,
        or_(ContractRow.terminated_on.is_(None), ContractRow.terminated_on > p.start
            - timedelta(days=1)),
    )  # fmt: skip
    if customer_ids is not None:
        stmt = stmt.where(ContractRow.customer_id.in_(list(customer_ids)))
    return list(s.scalars(stmt.order_by(ContractRow.id)))


def load_leases(s: Session, contracts: Sequence[ContractRow], p: Period) -> dict[int, LeaseData]:
    """Lease data (allocations and outages touching ``p``) by contract id."""
    data = {c.id: LeaseData(c) for c in contracts if c.kind == "lease"}
    ids = list(data)
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        for a in s.scalars(
            select(LeaseAllocationRow).where(LeaseAllocationRow.contract_id.in_(chunk))
        ):
            data[a.contract_id].allocations.append(a)
        for e in s.scalars(
            select(SlaEventRow).where(
                SlaEventRow.contract_id.in_(chunk),
                SlaEventRow.down_from < p.end_at,
                or_(SlaEventRow.down_until.is_(None), SlaEventRow.down_until > p.start_at),
            )
        ):
            data[e.contract_id].outages.setdefault(e.allocation_id, []).append(
                (e.down_from, e.down_until)
            )
    return data


def reserved_usage(s: Session, customer_id: int, p: Period) -> dict[str, Decimal]:
    """GPU-seconds of ``reserved`` usage that occurred in ``p``, by SKU."""
    rows = s.execute(
        select(UsageRecordRow.sku, UsageRecordRow.gpu_seconds).where(
            UsageRecordRow.customer_id == customer_id,
            UsageRecordRow.priority_class == "reserved",
            UsageRecordRow.started_at >= p.start_at,
            UsageRecordRow.started_at < p.end_at,
        )
    )
    out: dict[str, Decimal] = defaultdict(Decimal)
    for sku, seconds in rows:
        out[sku] += seconds
    return out


class UsageRaced(Exception):
    """Another transaction billed some of these usage records first; this invoice rolls back."""


def mark_billed(s: Session, ids: list[int], invoice_id: int) -> None:
    """Point the still-unbilled usage records ``ids`` at their invoice.

    No rows are locked when they are read; the ``invoice_id IS NULL`` guard makes this UPDATE the
    arbiter: if a concurrent run billed one of them first (its row lock is waited for, then the
    row no longer matches), fewer rows change and :class:`UsageRaced` rolls this invoice back.
    """
    conn = s.connection()
    unbilled = UsageRecordRow.invoice_id.is_(None)
    changed = 0
    if conn.dialect.name == "postgresql":  # one array parameter instead of N binds
        changed = conn.execute(
            update(UsageRecordRow)
            .where(UsageRecordRow.id == any_(literal(ids, ARRAY(Integer))), unbilled)
            .values(invoice_id=invoice_id)
        ).rowcount
    else:
        for i in range(0, len(ids), 500):
            changed += conn.execute(
                update(UsageRecordRow)
                .where(UsageRecordRow.id.in_(ids[i : i + 500]), unbilled)
                .values(invoice_id=invoice_id)
            ).rowcount
    if changed != len(ids):
        raise UsageRaced


# --- the run --------------------------------------------------------------------------------


def check_issue_date(p: Period, issue: date) -> date:
    """``issue`` if ``p`` has closed by then (invoicing in arrears), else ``invoice.period_open``."""
    if issue < p.end:
        raise ValidationError(
            "invoice.period_open",
            f"{p.key} is not closed on {issue.isoformat()}: invoices are issued in arrears, "
            f"on or after {p.end.isoformat()}",
            {"issue_date": f">= {p.end.isoformat()}"},
        )
    return issue


class BillingService:
    def __init__(self, sessions: SessionFactory, clock: Clock, currency: str = "CNY") -> None:
        self.sessions = sessions
        self.clock = clock
        self.currency = currency

    def run(
        self,
        p: Period,
        hooks: RunHooks | None = None,
        customer: str | None = None,
        issue_date: date | None = None,
    ) -> RunResult:
        """Invoice every customer with service in ``p`` (or unbilled usage before its end).

        Invoices are issued in arrears, dated ``issue_date`` (the effective date; default the
        clock's day), which must be on or after the first day after ``p``: an open or future
        period is refused (``invoice.period_open``). See docs/billing.md, "Calendar rules".
        """
        hooks = hooks or NoHooks()
        now = self.clock.now()
        issue = check_issue_date(p, issue_date or now.date())
        with transaction(self.sessions) as s:
            sync_downtime_in(s)  # failures entered through the fleet service directly
        with transaction(self.sessions) as s:
            customers = self._customers_to_bill(s, p, customer)
            contracts = overlapping_contracts(
                s, p, [cid for cid, _, _ in customers] if customer else None
            )
            leases = load_leases(s, contracts, p)
            prices = load_prices(s)
            s.expunge_all()
        by_customer: dict[int, list[ContractRow]] = defaultdict(list)
        for c in contracts:
            by_customer[c.customer_id].append(c)
        result = RunResult(p.key, [], [], [])
        for cid, code, terms in customers:
            mine = by_customer.get(cid, [])
            lease_data = [leases[c.id] for c in mine if c.kind == "lease"]
            reserved = [c for c in mine if c.kind == "reserved"]
            try:
                number = self._invoice_customer(
                    cid, code, terms, p, lease_data, reserved, prices, now, hooks, issue
                )
            except UsageRaced:
                number = "exists"  # a concurrent run billed this customer's usage first
            except IntegrityError:
                # Only the race on (customer, period) means "already invoiced"; any other
                # constraint violation is a bug and must not pass as a skipped customer.
                if not self._invoiced(cid, p):
                    raise
                number = "exists"
            if number is None:
                result.empty.append(code)
            elif number == "exists":
                result.skipped.append(code)
            else:
                result.created.append(number)
        return result

    def _invoiced(self, cid: int, p: Period) -> bool:
        with transaction(self.sessions) as s:
            found = s.scalar(
                select(InvoiceRow.id).where(
                    InvoiceRow.customer_id == cid, InvoiceRow.period_key == p.key
                )
            )
        return found is not None

    def _customers_to_bill(
        self, s: Session, p: Period, customer: str | None
    ) -> list[tuple[int, str, int]]:
        with_contracts = select(ContractRow.customer_id).where(
            ContractRow.start_date < p.end, ContractRow.end_date > p.start
        )
        with_usage = select(UsageRecordRow.customer_id).where(
            UsageRecordRow.invoice_id.is_(None), UsageRecordRow.started_at < p.end_at
        )
        stmt = select(CustomerRow.id, CustomerRow.code, CustomerRow.payment_terms_days).where(
            or_(CustomerRow.id.in_(with_contracts), CustomerRow.id.in_(with_usage))
        )
        if customer:
            stmt = stmt.where(CustomerRow.code == customer)
        return [tuple(r) for r in s.execute(stmt.order_by(CustomerRow.code))]  # type: ignore[misc]

    def _invoice_customer(
        self, cid: int, code: str, terms: int, p: Period, leases: list[LeaseData],
        reserved: list[ContractRow], prices: PriceBook, now: datetime, hooks: RunHooks,
        issue: date,
    ) -> str | None:  # fmt: skip
        with transaction(self.sessions) as s:
            serialise_writes(s)
            lock_customer(s, cid)
            exists = s.scalar(
                select(InvoiceRow.id).where(
                    InvoiceRow.customer_id == cid, InvoiceRow.period_key == p.key
                )
            )
            if exists:
                return "exists"
            rows = s.execute(
                select(UsageRecordRow.id, UsageRecordRow.started_at, UsageRecordRow.sku,
                       UsageRecordRow.priority_class, UsageRecordRow.gpu_seconds)
                .where(UsageRecordRow.customer_id == cid, UsageRecordRow.invoice_id.is_(None),
                       UsageRecordRow.started_at < p.end_at)
            ).all()  # fmt: skip
            usage = [UsageItem(r[1], r[2], r[3], r[4]) for r in rows]
            used = reserved_usage(s, cid, p) if reserved else {}
            lines = draft_lines(p, leases, reserved, usage, used, prices, now)
            if not lines:
                return None
            number = f"INV-{issue.year}-{next_number(s, f'INV-{issue.year}'):06d}"
            amounts = [line_amount(d.exact_net, d.vat_rate) for d in lines]
            net = sum((a.net for a in amounts), Decimal(0))
            tax = sum((a.tax for a in amounts), Decimal(0))
            invoice = InvoiceRow(
                number=number, series=f"INV-{issue.year}", kind="invoice", customer_id=cid,
                period_key=p.key, period_start=p.start, period_end=p.end - timedelta(days=1),
                issue_date=issue, due_date=issue + timedelta(days=terms), currency=self.currency,
                net=net, tax=tax, gross=net + tax, created_at=now,
            )  # fmt: skip
            s.add(invoice)
            s.flush()
            s.execute(insert(InvoiceLineRow), [
                dict(invoice_id=invoice.id, line_no=i, kind=d.kind, description=d.description,
                     contract_id=d.contract_id, quantity=d.quantity, unit=d.unit, unit_price=d.unit_price,
                     net=a.net, vat_rate=d.vat_rate, tax=a.tax, gross=a.gross,
                     service_start=d.service_start, service_end=d.service_end)
                for i, (d, a) in enumerate(zip(lines, amounts, strict=True), start=1)
            ])  # fmt: skip
            if rows:
                mark_billed(s, [r[0] for r in rows], invoice.id)
            apply_unapplied(s, cid, issue)
            hooks.before_commit(code, number)
            return number

    # --- revenue --------------------------------------------------------------------------

    def revenue(self, p: Period, customer_id: int | None = None) -> dict[str, Decimal]:
        """Revenue recognised in ``p`` by kind (service delivered in ``p``), net of VAT."""
        now = self.clock.now()
        totals: dict[str, Decimal] = defaultdict(Decimal)
        with transaction(self.sessions) as s:
            contracts = overlapping_contracts(s, p, [customer_id] if customer_id else None)
            leases = load_leases(s, contracts, p)
            prices = load_prices(s)
            by_customer: dict[int, list[ContractRow]] = defaultdict(list)
            for c in contracts:
                by_customer[c.customer_id].append(c)
            stmt = select(UsageRecordRow.customer_id, UsageRecordRow.started_at, UsageRecordRow.sku,
                          UsageRecordRow.priority_class, UsageRecordRow.gpu_seconds).where(
                UsageRecordRow.started_at >= p.start_at, UsageRecordRow.started_at < p.end_at)  # fmt: skip
            if customer_id:
                stmt = stmt.where(UsageRecordRow.customer_id == customer_id)
            usage: dict[int, list[UsageItem]] = defaultdict(list)
            for cid, started, sku, klass, seconds in s.execute(stmt).all():
                usage[cid].append(UsageItem(started, sku, klass, seconds))
            for cid in set(by_customer) | set(usage):
                mine = by_customer.get(cid, [])
                reserved = [c for c in mine if c.kind == "reserved"]
                used: dict[str, Decimal] = defaultdict(Decimal)
                for u in usage.get(cid, []):
                    if u.priority_class == "reserved":
                        used[u.sku] += u.gpu_seconds
                lines = draft_lines(p, [leases[c.id] for c in mine if c.kind == "lease"], reserved,
                                    usage.get(cid, []), used, prices, now)  # fmt: skip
                for d in lines:
                    if d.revenue and d.kind in REVENUE_KINDS:
                        totals[d.kind] += line_amount(d.exact_net, d.vat_rate).net
        return dict(totals)
