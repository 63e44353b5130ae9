"""The monthly invoice run and revenue recognition.

Single writer of ``invoices`` (run invoices), ``invoice_lines`` and ``invoice_series``.

- One transaction per customer invoice: the invoice, its lines, the usage records it bills, the
  number taken from its series and the prepayments applied to it commit together or not at all.
  An interrupted run therefore leaves complete invoices or nothing; running it again finishes
  the remaining customers and creates nothing for those already invoiced
  (``(customer_id, period_key)`` is unique). A *supplementary* run instead gives a customer
  already invoiced an invoice for what is still unbilled in the period (``period_key`` empty,
  ``period_start`` naming the period; see :mod:`suanli.core.supplement`).
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

from suanli.core.billing import Period, line_amount
from suanli.core.clock import Clock
from suanli.core.errors import ValidationError
from suanli.core.pricing import (
    REVENUE_KINDS,
    Allocation,
    ContractTerms,
    Lease,
    Outage,
    UsageItem,
    draft_lines,
)
from suanli.core.supplement import BilledLine, unbilled_lines
from suanli.services.billing.metering import PriceBook, load_prices
from suanli.services.billing.numbering import lock_customer, next_number, serialise_writes
from suanli.services.billing.outstanding import apply_unapplied
from suanli.services.billing.token_ledger import (
    customers_with_unbilled_tokens,
    mark_tokens_billed,
    token_revenue,
    unbilled_token_lines,
)
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


class RunHooks(Protocol):
    def before_commit(self, customer: str, number: str) -> None: ...


class NoHooks:
    def before_commit(self, customer: str, number: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class RunResult:
    period: str
    created: list[str]
    skipped: list[str]
    empty: list[str]
    to_credit: list[str] = field(default_factory=list)


# --- loading --------------------------------------------------------------------------------


def to_contract(row: ContractRow) -> ContractTerms:
    """The priced terms of a contract row as a domain value."""
    return ContractTerms(
        id=row.id,
        number=row.number,
        customer_id=row.customer_id,
        kind=row.kind,
        sku=row.sku,
        start_date=row.start_date,
        end_date=row.end_date,
        monthly_rent=row.monthly_rent,
        cabinet_fee=row.cabinet_fee,
        om_fee=row.om_fee,
        fees_as_agent=row.fees_as_agent,
        sla_uptime=row.sla_uptime,
        vat_rate=row.vat_rate,
        fee_vat_rate=row.fee_vat_rate,
        committed_gpus=row.committed_gpus,
        gpu_hour_rate=row.gpu_hour_rate,
        min_commitment=row.min_commitment,
        terminated_on=row.terminated_on,
        termination_penalty=row.termination_penalty,
    )


def overlapping_contracts(
    s: Session, p: Period, customer_ids: Iterable[int] | None = None
) -> list[ContractTerms]:
    stmt = select(ContractRow).where(
        ContractRow.start_date < p.end,
        ContractRow.end_date > p.start,
        or_(
            ContractRow.terminated_on.is_(None),
            ContractRow.terminated_on > p.start - timedelta(days=1),
        ),
    )
    if customer_ids is not None:
        stmt = stmt.where(ContractRow.customer_id.in_(list(customer_ids)))
    return [to_contract(row) for row in s.scalars(stmt.order_by(ContractRow.id))]


def load_leases(s: Session, contracts: Sequence[ContractTerms], p: Period) -> dict[int, Lease]:
    """Leases (allocations and outages touching ``p``) by contract id."""
    data = {c.id: Lease(c) for c in contracts if c.kind == "lease"}
    ids = list(data)
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        for a in s.scalars(
            select(LeaseAllocationRow).where(LeaseAllocationRow.contract_id.in_(chunk))
        ):
            data[a.contract_id].allocations.append(
                Allocation(a.id, a.starts_at, a.ends_at, a.delivered_at)
            )
        for e in s.scalars(
            select(SlaEventRow).where(
                SlaEventRow.contract_id.in_(chunk),
                SlaEventRow.down_from < p.end_at,
                or_(SlaEventRow.down_until.is_(None), SlaEventRow.down_until > p.start_at),
            )
        ):
            data[e.contract_id].add_event(Outage(e.allocation_id, e.down_from, e.down_until))
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


def billed_in(s: Session, cid: int, p: Period) -> list[BilledLine]:
    """The lines of every invoice (regular and supplementary, not credit notes) for ``p``."""
    rows = s.scalars(
        select(InvoiceLineRow)
        .join(InvoiceRow, InvoiceRow.id == InvoiceLineRow.invoice_id)
        .where(
            InvoiceRow.customer_id == cid,
            InvoiceRow.kind == "invoice",
            InvoiceRow.period_start == p.start,
        )
    )
    return [
        BilledLine(r.contract_id, r.kind, r.description, r.quantity, r.unit, r.unit_price, r.net,
                   r.vat_rate, r.service_start, r.service_end)
        for r in rows
    ]  # fmt: skip


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
        supplementary: bool = False,
    ) -> RunResult:
        """Invoice every customer with service in ``p`` (or unbilled usage before its end).

        Invoices are issued in arrears, dated ``issue_date`` (the effective date; default the
        clock's day), which must be on or after the first day after ``p``: an open or future
        period is refused (``invoice.period_open``). See docs/billing.md, "Calendar rules".
        A customer already invoiced for ``p`` is skipped, unless ``supplementary``: then it gets
        a supplementary invoice with only what its invoices for ``p`` have not billed yet
        (:func:`~suanli.core.supplement.unbilled_lines`); if that comes to less than nothing,
        nothing is issued and the customer is listed in ``to_credit`` (a credit note's job).
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
        by_customer: dict[int, list[ContractTerms]] = defaultdict(list)
        for c in contracts:
            by_customer[c.customer_id].append(c)
        result = RunResult(p.key, [], [], [])
        for cid, code, terms in customers:
            mine = by_customer.get(cid, [])
            lease_data = [leases[c.id] for c in mine if c.kind == "lease"]
            reserved = [c for c in mine if c.kind == "reserved"]
            try:
                number = self._invoice_customer(
                    cid, code, terms, p, lease_data, reserved, prices, now, hooks, issue,
                    supplementary,
                )  # fmt: skip
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
            elif number == "to_credit":
                result.to_credit.append(code)
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
            or_(
                CustomerRow.id.in_(with_contracts),
                CustomerRow.id.in_(with_usage),
                CustomerRow.id.in_(customers_with_unbilled_tokens(p)),
            )
        )
        if customer:
            stmt = stmt.where(CustomerRow.code == customer)
        return [tuple(r) for r in s.execute(stmt.order_by(CustomerRow.code))]  # type: ignore[misc]

    def _invoice_customer(
        self,
        cid: int,
        code: str,
        terms: int,
        p: Period,
        leases: list[Lease],
        reserved: list[ContractTerms],
        prices: PriceBook,
        now: datetime,
        hooks: RunHooks,
        issue: date,
        supplementary: bool = False,
    ) -> str | None:
        with transaction(self.sessions) as s:
            serialise_writes(s)
            lock_customer(s, cid)
            regular = s.scalar(
                select(InvoiceRow.number).where(
                    InvoiceRow.customer_id == cid, InvoiceRow.period_key == p.key
                )
            )
            if regular and not supplementary:
                return "exists"
            rows = s.execute(
                select(
                    UsageRecordRow.id,
                    UsageRecordRow.started_at,
                    UsageRecordRow.sku,
                    UsageRecordRow.priority_class,
                    UsageRecordRow.gpu_seconds,
                ).where(
                    UsageRecordRow.customer_id == cid,
                    UsageRecordRow.invoice_id.is_(None),
                    UsageRecordRow.started_at < p.end_at,
                )
            ).all()
            usage = [UsageItem(r[1], r[2], r[3], r[4]) for r in rows]
            used = reserved_usage(s, cid, p) if reserved else {}
            lines = draft_lines(p, leases, reserved, usage, used, prices, now)
            if regular:  # the customer is invoiced for p: bill only what is still unbilled
                lines = unbilled_lines(lines, billed_in(s, cid, p))
            token_ids, token_lines = unbilled_token_lines(s, cid, p)  # billed once per record
            lines += token_lines
            if not lines:
                return None
            number = f"INV-{issue.year}-{next_number(s, f'INV-{issue.year}'):06d}"
            amounts = [line_amount(d.exact_net, d.vat_rate) for d in lines]
            net = sum((a.net for a in amounts), Decimal(0))
            tax = sum((a.tax for a in amounts), Decimal(0))
            if regular and net <= 0:
                return "to_credit" if net < 0 else None
            invoice = InvoiceRow(
                number=number,
                series=f"INV-{issue.year}",
                kind="invoice",
                customer_id=cid,
                # a supplement leaves period_key empty: (customer, period_key) stays unique to
                # the regular invoice, and period_start says which period it supplements
                period_key=None if regular else p.key,
                reason=f"supplementary to {regular} for {p.key}" if regular else None,
                period_start=p.start,
                period_end=p.end - timedelta(days=1),
                issue_date=issue,
                due_date=issue + timedelta(days=terms),
                currency=self.currency,
                net=net,
                tax=tax,
                gross=net + tax,
                created_at=now,
            )
            s.add(invoice)
            s.flush()
            s.execute(
                insert(InvoiceLineRow),
                [
                    dict(
                        invoice_id=invoice.id,
                        line_no=i,
                        kind=d.kind,
                        description=d.description,
                        contract_id=d.contract_id,
                        quantity=d.quantity,
                        unit=d.unit,
                        unit_price=d.unit_price,
                        net=a.net,
                        vat_rate=d.vat_rate,
                        tax=a.tax,
                        gross=a.gross,
                        service_start=d.service_start,
                        service_end=d.service_end,
                    )
                    for i, (d, a) in enumerate(zip(lines, amounts, strict=True), start=1)
                ],
            )
            if rows:
                mark_billed(s, [r[0] for r in rows], invoice.id)
            if token_ids and mark_tokens_billed(s, token_ids, invoice.id) != len(token_ids):
                raise UsageRaced
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
            by_customer: dict[int, list[ContractTerms]] = defaultdict(list)
            for c in contracts:
                by_customer[c.customer_id].append(c)
            stmt = select(
                UsageRecordRow.customer_id,
                UsageRecordRow.started_at,
                UsageRecordRow.sku,
                UsageRecordRow.priority_class,
                UsageRecordRow.gpu_seconds,
            ).where(UsageRecordRow.started_at >= p.start_at, UsageRecordRow.started_at < p.end_at)
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
                lines = draft_lines(
                    p,
                    [leases[c.id] for c in mine if c.kind == "lease"],
                    reserved,
                    usage.get(cid, []),
                    used,
                    prices,
                    now,
                )
                for d in lines:
                    if d.revenue and d.kind in REVENUE_KINDS:
                        totals[d.kind] += line_amount(d.exact_net, d.vat_rate).net
            tokens = token_revenue(s, p, customer_id)
            if tokens:
                totals["tokens"] += tokens
        return dict(totals)
