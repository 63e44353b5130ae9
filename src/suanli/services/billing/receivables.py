"""The ledger after issue: reading invoices, credit notes, payments, AR aging and the monthly
reconciliation of billed, recognised and collected amounts.

Single writer of ``payments`` and of credit notes (``invoices`` rows with ``kind =
'credit_note'``). Issued documents are never edited (the database refuses it); a correction is a
credit note ``CN-<year>-<n>`` with negative lines referring to the invoice's lines, numbered
from its own gap-free series.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from suanli.core.billing import (
    AGING_BUCKETS,
    Period,
    aging_bucket,
    line_amount,
    month_of,
    parse_period,
)
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.ledger import Allocation, Invoice, InvoiceLine, Payment
from suanli.services.billing.credits import credit_figures
from suanli.services.billing.invoicing import BillingService
from suanli.services.billing.numbering import lock_customer, next_number, serialise_writes
from suanli.services.billing.outstanding import (
    ZERO,
    applied_by_invoice,
    apply_unapplied,
    credit_balances,
    outstanding_by_invoice,
)
from suanli.services.common import (
    Page,
    check_paging,
    non_negative_money,
    optional_text,
    require_text,
)
from suanli.services.tenancy import SYSTEM, Principal, get_customer_row
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import (
    ContractRow,
    CreditReleaseRow,
    CustomerRow,
    InvoiceLineRow,
    InvoiceRow,
    PaymentAllocationRow,
    PaymentRow,
    RecoveryRow,
    UsageRecordRow,
    WriteOffRow,
)


@dataclass(frozen=True, slots=True)
class AgingRow:
    customer: str
    buckets: dict[str, Decimal]
    total: Decimal
    credit: Decimal = ZERO  # customer credit balance (overpayments released by credit notes)


def credited_line_no(description: str) -> int:
    """The line of the credited invoice that a credit-note line credits (its description is
    written by :meth:`LedgerService.credit_note` as ``credit of <number> line <n>: ...``)."""
    return int(description.split(" line ", 1)[1].split(":", 1)[0])


def _check_uncredited(s: Session, invoice: InvoiceRow, note_gross: Decimal) -> None:
    """Credits never exceed what was billed: the invoice's gross less its credit notes."""
    notes = s.scalar(
        select(func.coalesce(func.sum(InvoiceRow.gross), 0)).where(
            InvoiceRow.credited_invoice_id == invoice.id
        )
    )
    left = invoice.gross + Decimal(notes or 0)
    if -note_gross > left:
        raise ConflictError(
            "credit_note.exceeds_invoice",
            f"{invoice.number} has {max(left, ZERO)} gross left to credit",
            {"lines": f"gross <= {max(left, ZERO)}"},
        )


def _release_excess(
    s: Session, invoice: InvoiceRow, note: InvoiceRow, owed: Decimal, now: datetime
) -> None:
    """Record the part of ``note`` beyond what ``invoice`` still owed (``owed``) as released.

    Cash already applied and not yet released is an overpayment: a customer credit balance.
    The rest can only be the written-off part, whose credit reverses the write-off.
    """
    excess = -note.gross - max(owed, ZERO)
    if excess <= 0:
        return
    paid, released = applied_by_invoice(s, invoice.id)
    overpaid = min(excess, max(paid - released, ZERO))
    for kind, amount in (("overpayment", overpaid), ("written_off", excess - overpaid)):
        if amount > 0:
            s.add(CreditReleaseRow(
                invoice_id=invoice.id, credit_note_id=note.id, customer_id=invoice.customer_id,
                kind=kind, amount=amount, released_on=note.issue_date, created_at=now,
            ))  # fmt: skip
    s.flush()


@dataclass(frozen=True, slots=True)
class Reconciliation:
    period: str
    billed_net: Decimal
    billed_tax: Decimal
    billed_gross: Decimal
    recognised: Decimal
    recognised_by_kind: dict[str, Decimal]
    collected: Decimal
    collected_by_kind: dict[str, Decimal]
    receivables_end: Decimal
    unapplied_cash_end: Decimal
    deposits_held_end: Decimal
    cumulative_billed_net: Decimal
    cumulative_recognised: Decimal
    unbilled_revenue_end: Decimal
    deferred_revenue_end: Decimal
    refunded: Decimal = ZERO  # customer credit paid back in cash in the period
    credit_balance_end: Decimal = ZERO  # customer credit balances (owed to customers) at the end


def _line(r: InvoiceLineRow) -> InvoiceLine:
    return InvoiceLine(r.line_no, r.kind, r.description, r.quantity, r.unit, r.unit_price, r.net,
                       r.vat_rate, r.tax, r.gross, r.service_start, r.service_end)  # fmt: skip


def _related_names(s: Session, rows: Sequence[InvoiceRow]) -> dict[tuple[str, int], str]:
    """Customer codes and credited invoice numbers of ``rows``, in at most two queries (a list
    page would otherwise query once per row)."""
    customer_ids = {r.customer_id for r in rows}
    credited_ids = {r.credited_invoice_id for r in rows if r.credited_invoice_id}
    names: dict[tuple[str, int], str] = {}
    if customer_ids:
        q = select(CustomerRow.id, CustomerRow.code).where(CustomerRow.id.in_(customer_ids))
        names.update((("customer", i), code) for i, code in s.execute(q))
    if credited_ids:
        q = select(InvoiceRow.id, InvoiceRow.number).where(InvoiceRow.id.in_(credited_ids))
        names.update((("invoice", i), number) for i, number in s.execute(q))
    return names


class LedgerService:
    def __init__(self, sessions: SessionFactory, clock: Clock, billing: BillingService) -> None:
        self.sessions = sessions
        self.clock = clock
        self.billing = billing

    # --- invoices ---------------------------------------------------------------------------

    def _invoice_row(self, s: Session, number: str, principal: Principal) -> InvoiceRow:
        row = s.scalars(select(InvoiceRow).where(InvoiceRow.number == number)).one_or_none()
        if row is None or not principal.sees(row.customer_id):
            raise NotFoundError("invoice.not_found", f"no invoice {number!r}", {"invoice": number})
        return row

    def _invoice(
        self,
        s: Session,
        row: InvoiceRow,
        owed: Decimal,
        with_lines: bool,
        names: dict[tuple[str, int], str] | None = None,
    ) -> Invoice:
        if names is None:
            names = _related_names(s, [row])
        code = names[("customer", row.customer_id)]
        credited = names[("invoice", row.credited_invoice_id)] if row.credited_invoice_id else None
        lines = [_line(r) for r in row.lines] if with_lines else []
        period = row.period_key or (  # a supplementary invoice names its period by its dates
            f"{row.period_start:%Y-%m}" if row.kind == "invoice" and row.period_start else None
        )
        return Invoice(row.number, row.kind, code, period, row.issue_date, row.due_date,
                       row.currency, row.net, row.tax, row.gross, owed, credited, row.reason,
                       row.fapiao_number, lines)  # fmt: skip

    def get_invoice(self, number: str, principal: Principal = SYSTEM) -> Invoice:
        with transaction(self.sessions) as s:
            row = self._invoice_row(s, number, principal)
            owed = (
                outstanding_by_invoice(s, [row.id]).get(row.id, ZERO)
                if row.kind == "invoice"
                else ZERO
            )
            return self._invoice(s, row, owed, True)

    def list_invoices(
        self,
        principal: Principal = SYSTEM,
        customer: str | None = None,
        period: str | None = None,
        kind: str | None = None,
        unpaid: bool = False,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Invoice]:
        check_paging(limit, offset)
        customer = principal.scope(customer)
        stmt = select(InvoiceRow)
        if customer:
            stmt = stmt.join(CustomerRow, InvoiceRow.customer_id == CustomerRow.id).where(
                CustomerRow.code == customer
            )
        if period:
            start = parse_period(period).start  # the regular invoice and its supplements
            stmt = stmt.where(InvoiceRow.kind == "invoice", InvoiceRow.period_start == start)
        if kind:
            stmt = stmt.where(InvoiceRow.kind == kind)
        with transaction(self.sessions) as s:
            if unpaid:
                rows = s.scalars(
                    stmt.where(InvoiceRow.kind == "invoice").order_by(InvoiceRow.number)
                ).all()
                owed = outstanding_by_invoice(s, [r.id for r in rows])
                open_rows = [r for r in rows if owed[r.id] > 0]
                page_rows = open_rows[offset : offset + limit]
                names = _related_names(s, page_rows)
                items = [self._invoice(s, r, owed[r.id], False, names) for r in page_rows]
                return Page(items, len(open_rows), limit, offset)
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.scalars(stmt.order_by(InvoiceRow.number).limit(limit).offset(offset)).all()
            names = _related_names(s, rows)
            owed = outstanding_by_invoice(s, [r.id for r in rows if r.kind == "invoice"])
            return Page(
                [self._invoice(s, r, owed.get(r.id, ZERO), False, names) for r in rows],
                total,
                limit,
                offset,
            )

    def set_fapiao(self, number: str, fapiao: str) -> Invoice:
        """Record the tax authority's fapiao number (the one field that may be filled in later)."""
        with transaction(self.sessions) as s:
            row = self._invoice_row(s, number, SYSTEM)
            if row.fapiao_number:
                raise ConflictError(
                    "invoice.fapiao_set",
                    f"{number} has fapiao {row.fapiao_number}",
                    {"fapiao_number": "set once"},
                )
            row.fapiao_number = require_text(fapiao, "fapiao_number", 64)
            s.flush()
            return self._invoice(
                s, row, outstanding_by_invoice(s, [row.id]).get(row.id, ZERO), True
            )

    def credit_note(
        self,
        number: str,
        reason: str,
        lines: dict[int, Decimal | str] | None = None,
        issue_date: date | None = None,
    ) -> Invoice:
        """Credit ``lines`` (line number → net amount to credit) of an invoice, or all of it.
        ``issue_date`` is the credit note's effective date (default today; not before the
        invoice's issue date)."""
        reason = require_text(reason, "reason", 2000)
        now = self.clock.now()
        with transaction(self.sessions) as s:
            serialise_writes(s)
            invoice = self._invoice_row(s, number, SYSTEM)
            lock_customer(s, invoice.customer_id)
            if invoice.kind != "invoice":
                raise ValidationError(
                    "credit_note.not_an_invoice", f"{number} is a credit note", {"invoice": number}
                )
            credited = self._credited_net_by_line(s, invoice.id)
            wanted = {  # "all of it" is what is left of each billed line
                ln.line_no: max(ln.net - credited.get(ln.line_no, ZERO), ZERO)
                for ln in invoice.lines if ln.net > 0
            } if lines is None else {
                int(k): non_negative_money(v, f"lines.{k}") for k, v in lines.items()
            }  # fmt: skip
            drafts = []
            for line in invoice.lines:
                amount = wanted.pop(line.line_no, None)
                if amount is None or amount == 0:
                    continue
                left = line.net - credited.get(line.line_no, ZERO)
                if (line.net >= 0 and amount > left) or line.net < 0:
                    raise ConflictError("credit_note.exceeds_line", f"line {line.line_no} has {left} left to credit",
                                        {f"lines.{line.line_no}": f"<= {left}"})  # fmt: skip
                drafts.append((line, line_amount(-amount, line.vat_rate)))
            if wanted:
                raise ValidationError(
                    "credit_note.unknown_line",
                    f"{number} has no line {sorted(wanted)}",
                    {"lines": sorted(wanted)},
                )
            if not drafts and lines is None:
                raise ConflictError("credit_note.exceeds_invoice", f"{number} has nothing left to credit",
                                    {"invoice": number})  # fmt: skip
            if not drafts:
                raise ValidationError(
                    "credit_note.empty", "nothing to credit", {"lines": "at least one amount > 0"}
                )
            _check_uncredited(s, invoice, sum((a.gross for _, a in drafts), ZERO))
            issue = issue_date or now.date()
            if issue < invoice.issue_date:
                raise ValidationError(
                    "credit_note.before_invoice",
                    f"{number} was issued on {invoice.issue_date}; a credit note cannot precede it",
                    {"issue_date": f">= {invoice.issue_date}"},
                )
            series = f"CN-{issue.year}"
            note = InvoiceRow(
                number=f"{series}-{next_number(s, series):06d}", series=series, kind="credit_note",
                customer_id=invoice.customer_id, issue_date=issue, due_date=issue, currency=invoice.currency,
                net=sum((a.net for _, a in drafts), ZERO), tax=sum((a.tax for _, a in drafts), ZERO),
                gross=sum((a.gross for _, a in drafts), ZERO), credited_invoice_id=invoice.id,
                reason=reason, created_at=now,
            )  # fmt: skip
            owed = outstanding_by_invoice(s, [invoice.id])[invoice.id]
            s.add(note)
            s.flush()
            _release_excess(s, invoice, note, owed, now)
            s.execute(insert(InvoiceLineRow), [
                dict(invoice_id=note.id, line_no=i, kind="credit", description=f"credit of {number} line {ln.line_no}: {ln.description}",
                     contract_id=ln.contract_id, quantity=Decimal(1), unit="each", unit_price=a.net,
                     net=a.net, vat_rate=ln.vat_rate, tax=a.tax, gross=a.gross, service_start=ln.service_start,
                     service_end=ln.service_end)
                for i, (ln, a) in enumerate(drafts, start=1)
            ])  # fmt: skip
            s.flush()
            s.refresh(note)
            return self._invoice(s, note, ZERO, True)

    def _credited_net_by_line(self, s: Session, invoice_id: int) -> dict[int, Decimal]:
        out: dict[int, Decimal] = defaultdict(Decimal)
        notes = s.scalars(
            select(InvoiceRow).where(InvoiceRow.credited_invoice_id == invoice_id)
        ).all()
        for note in notes:
            for line in note.lines:
                out[credited_line_no(line.description)] += -line.net
        return out

    # --- payments ---------------------------------------------------------------------------

    def record_payment(
        self, customer: str, amount: Decimal | str, received_on: date, kind: str = "payment",
        reference: str | None = None, contract: str | None = None,
    ) -> Payment:  # fmt: skip
        """Record money received; payments and prepayments are applied to open invoices."""
        if kind not in ("payment", "prepayment", "deposit"):
            raise ValidationError(
                "payment.invalid_kind",
                f"unknown kind {kind!r}",
                {"kind": ["payment", "prepayment", "deposit"]},
            )
        money = non_negative_money(amount, "amount")
        if money == 0:
            raise ValidationError("payment.zero", "amount must be > 0", {"amount": "> 0"})
        with transaction(self.sessions) as s:
            serialise_writes(s)
            cust = get_customer_row(s, customer)
            lock_customer(s, cust.id)
            contract_id = None
            if contract:
                contract_id = s.scalar(
                    select(ContractRow.id).where(
                        ContractRow.number == contract, ContractRow.customer_id == cust.id
                    )
                )
                if contract_id is None:
                    raise NotFoundError(
                        "contract.not_found", f"no contract {contract!r}", {"contract": contract}
                    )
            row = PaymentRow(customer_id=cust.id, kind=kind, amount=money, received_on=received_on,
                             reference=optional_text(reference, "reference"), contract_id=contract_id,
                             created_at=self.clock.now())  # fmt: skip
            s.add(row)
            s.flush()
            if kind != "deposit":
                apply_unapplied(s, cust.id, received_on)
            used = s.scalar(
                select(func.coalesce(func.sum(PaymentAllocationRow.amount), 0)).where(
                    PaymentAllocationRow.payment_id == row.id
                )
            )
            return Payment(
                row.id, cust.code, kind, money, received_on, row.reference, Decimal(used or 0)
            )

    def list_payments(
        self,
        principal: Principal = SYSTEM,
        customer: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Payment]:
        check_paging(limit, offset)
        customer = principal.scope(customer)
        applied = (
            select(PaymentAllocationRow.payment_id, func.sum(PaymentAllocationRow.amount).label("used"))
            .group_by(PaymentAllocationRow.payment_id).subquery()
        )  # fmt: skip
        stmt = (
            select(PaymentRow, CustomerRow.code, func.coalesce(applied.c.used, 0))
            .join(CustomerRow, PaymentRow.customer_id == CustomerRow.id)
            .outerjoin(applied, applied.c.payment_id == PaymentRow.id)
        )
        if customer:
            stmt = stmt.where(CustomerRow.code == customer)
        with transaction(self.sessions) as s:
            total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
            rows = s.execute(
                stmt.order_by(PaymentRow.received_on, PaymentRow.id).limit(limit).offset(offset)
            ).all()
            items = [
                Payment(p.id, code, p.kind, p.amount, p.received_on, p.reference, Decimal(used))
                for p, code, used in rows
            ]
            return Page(items, total, limit, offset)

    def allocations(self, number: str, principal: Principal = SYSTEM) -> list[Allocation]:
        """The payments applied to invoice ``number``, in the order they were applied."""
        with transaction(self.sessions) as s:
            invoice = self._invoice_row(s, number, principal)
            rows = s.execute(
                select(PaymentAllocationRow, PaymentRow)
                .join(PaymentRow, PaymentRow.id == PaymentAllocationRow.payment_id)
                .where(PaymentAllocationRow.invoice_id == invoice.id)
                .order_by(PaymentAllocationRow.applied_on, PaymentAllocationRow.id)
            ).all()
            return [
                Allocation(p.id, p.kind, p.received_on, p.reference, a.amount, a.applied_on)
                for a, p in rows
            ]

    # --- reports ----------------------------------------------------------------------------

    def aging(
        self, as_of: date, principal: Principal = SYSTEM, customer: str | None = None
    ) -> list[AgingRow]:
        """Open receivables by customer in buckets of days since the invoice date."""
        customer = principal.scope(customer)
        with transaction(self.sessions) as s:
            stmt = (
                select(InvoiceRow.id, InvoiceRow.issue_date, CustomerRow.code)
                .join(CustomerRow, InvoiceRow.customer_id == CustomerRow.id)
                .where(InvoiceRow.kind == "invoice", InvoiceRow.issue_date <= as_of)
            )
            if customer:
                stmt = stmt.where(CustomerRow.code == customer)
            rows = s.execute(stmt).all()
            owed = outstanding_by_invoice(s, [r[0] for r in rows], as_of)
            codes = dict(s.execute(select(CustomerRow.id, CustomerRow.code)).all())
            credit = {
                codes[i]: amount
                for i, amount in credit_balances(s, None, as_of).items()
                if not customer or codes[i] == customer
            }
        table: dict[str, dict[str, Decimal]] = {
            code: {b: ZERO for b in AGING_BUCKETS} for code in credit
        }
        for invoice_id, issued, code in rows:
            if owed[invoice_id] <= 0:
                continue
            buckets = table.setdefault(code, {b: ZERO for b in AGING_BUCKETS})
            buckets[aging_bucket(issued, as_of)] += owed[invoice_id]
        return [
            AgingRow(code, b, sum(b.values(), ZERO), credit.get(code, ZERO))
            for code, b in sorted(table.items())
        ]

    def reconcile(self, period: Period) -> Reconciliation:
        """Billed, recognised and collected in ``period``, and the balances that bridge them."""
        with transaction(self.sessions) as s:
            first = self._first_month(s)
            billed = s.execute(
                select(
                    func.coalesce(func.sum(InvoiceRow.net), 0),
                    func.coalesce(func.sum(InvoiceRow.tax), 0),
                ).where(InvoiceRow.issue_date >= period.start, InvoiceRow.issue_date < period.end)
            ).one()
            cum_billed = Decimal(
                s.scalar(
                    select(func.coalesce(func.sum(InvoiceRow.net), 0)).where(
                        InvoiceRow.issue_date < period.end
                    )
                )
                or 0
            )
            cum_gross = Decimal(
                s.scalar(
                    select(func.coalesce(func.sum(InvoiceRow.gross), 0)).where(
                        InvoiceRow.issue_date < period.end
                    )
                )
                or 0
            )
            collected = dict(s.execute(
                select(PaymentRow.kind, func.sum(PaymentRow.amount))
                .where(PaymentRow.received_on >= period.start, PaymentRow.received_on < period.end)
                .group_by(PaymentRow.kind)
            ).all())  # fmt: skip
            received = dict(s.execute(
                select(PaymentRow.kind, func.sum(PaymentRow.amount)).where(PaymentRow.received_on < period.end).group_by(PaymentRow.kind)
            ).all())  # fmt: skip
            applied = Decimal(
                s.scalar(
                    select(func.coalesce(func.sum(PaymentAllocationRow.amount), 0)).where(
                        PaymentAllocationRow.applied_on < period.end
                    )
                )
                or 0
            )
            written_off = Decimal(
                s.scalar(
                    select(func.coalesce(func.sum(WriteOffRow.amount), 0)).where(
                        WriteOffRow.written_off_on < period.end
                    )
                )
                or 0
            ) - Decimal(  # recoveries reinstate what they recover
                s.scalar(
                    select(func.coalesce(func.sum(RecoveryRow.amount), 0)).where(
                        RecoveryRow.recovered_on < period.end
                    )
                )
                or 0
            )
            credit = credit_figures(s, period)
            notes = select(func.coalesce(func.sum(InvoiceRow.net), 0)).where(
                InvoiceRow.kind == "credit_note"
            )
            notes_in = {
                True: s.scalar(notes.where(InvoiceRow.issue_date < period.start)),
                False: s.scalar(notes.where(InvoiceRow.issue_date >= period.start, InvoiceRow.issue_date < period.end)),
            }  # fmt: skip
        by_kind = self.billing.revenue(period)
        by_kind["credit_notes"] = Decimal(notes_in.get(False, 0) or 0)
        recognised = sum(by_kind.values(), ZERO)
        cumulative = Decimal(notes_in.get(True, 0) or 0) + recognised
        month, last = first, self._last_day(self.sessions)
        while month is not None and month.start < period.start and month.start <= last:
            cumulative += sum(self.billing.revenue(month).values(), ZERO)
            month = month.next()
        cash = sum((Decimal(v) for k, v in received.items() if k != "deposit"), ZERO)
        gap = cumulative - cum_billed
        return Reconciliation(
            period.key, Decimal(billed[0]), Decimal(billed[1]), Decimal(billed[0]) + Decimal(billed[1]),
            recognised, by_kind, sum((Decimal(v) for v in collected.values()), ZERO),
            {k: Decimal(v) for k, v in collected.items()},
            cum_gross - applied - written_off + credit.released - credit.applied, cash - applied,
            Decimal(received.get("deposit", 0) or 0), cum_billed, cumulative,
            max(gap, ZERO), max(-gap, ZERO) + (cash - applied), credit.refunded, credit.balance,
        )  # fmt: skip

    def _last_day(self, sessions: SessionFactory) -> date:
        """After this day nothing earns revenue (contracts ended, no usage), so no month is summed."""
        with transaction(sessions) as s:
            ends = [
                s.scalar(select(func.max(ContractRow.end_date))),
                s.scalar(select(func.max(UsageRecordRow.started_at))),
            ]
        days = [d.date() if isinstance(d, datetime) else d for d in ends if d is not None]
        return max(days) if days else date.min

    def _first_month(self, s: Session) -> Period | None:
        starts = [
            s.scalar(select(func.min(ContractRow.start_date))),
            s.scalar(select(func.min(UsageRecordRow.started_at))),
        ]
        days = [
            d.date() if hasattr(d, "date") and callable(d.date) else d
            for d in starts
            if d is not None
        ]
        return month_of(min(days)) if days else None
