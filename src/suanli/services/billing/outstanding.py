"""Receivables arithmetic inside a session: what an invoice still owes and applying cash to it.

- outstanding(invoice) = gross + gross of its credit notes (negative) − payments applied to it
  − amounts written off + amounts recovered after a write-off
  (:mod:`suanli.services.billing.writeoffs`) + credit released
  (``credit_releases``: the part of a credit note beyond what the invoice still owed)
  − customer credit applied to it (``credit_applications`` of kind ``applied``).
  Invariant: never below zero; an overpayment is a recorded release, not a negative balance.
- Customer credit balance = releases of kind ``overpayment`` − credit applied to invoices −
  credit refunded (:func:`credit_balances`; written by :mod:`suanli.services.billing.credits`).
- Unapplied cash of a customer = ``payment`` and ``prepayment`` amounts not yet allocated;
  deposits are never applied. :func:`apply_unapplied` allocates it to open invoices oldest
  first. Single writer of ``payment_allocations``. An allocation takes effect on the later of
  the payment's date and the invoice's issue date (cash received before an invoice exists pays
  it when it is issued, never before), so :func:`outstanding_by_invoice` ``as_of`` a day sees
  only the credit notes issued, the cash applied and the write-offs effective by then.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.store.models import (
    CreditApplicationRow,
    CreditReleaseRow,
    InvoiceRow,
    PaymentAllocationRow,
    PaymentRow,
    RecoveryRow,
    WriteOffRow,
)

ZERO = Decimal("0.00")


def outstanding_by_invoice(
    s: Session, invoice_ids: Iterable[int], as_of: date | None = None
) -> dict[int, Decimal]:
    ids = list(invoice_ids)
    if not ids:
        return {}
    gross = dict(
        s.execute(select(InvoiceRow.id, InvoiceRow.gross).where(InvoiceRow.id.in_(ids))).all()
    )
    credit_stmt = select(InvoiceRow.credited_invoice_id, func.sum(InvoiceRow.gross)).where(
        InvoiceRow.credited_invoice_id.in_(ids)
    )
    paid_stmt = select(
        PaymentAllocationRow.invoice_id, func.sum(PaymentAllocationRow.amount)
    ).where(PaymentAllocationRow.invoice_id.in_(ids))
    written_stmt = select(WriteOffRow.invoice_id, func.sum(WriteOffRow.amount)).where(
        WriteOffRow.invoice_id.in_(ids)
    )
    released_stmt = select(CreditReleaseRow.invoice_id, func.sum(CreditReleaseRow.amount)).where(
        CreditReleaseRow.invoice_id.in_(ids)
    )
    used_stmt = select(
        CreditApplicationRow.invoice_id, func.sum(CreditApplicationRow.amount)
    ).where(CreditApplicationRow.invoice_id.in_(ids))
    recovered_stmt = select(RecoveryRow.invoice_id, func.sum(RecoveryRow.amount)).where(
        RecoveryRow.invoice_id.in_(ids)
    )
    if as_of is not None:
        recovered_stmt = recovered_stmt.where(RecoveryRow.recovered_on <= as_of)
        used_stmt = used_stmt.where(CreditApplicationRow.applied_on <= as_of)
        released_stmt = released_stmt.where(CreditReleaseRow.released_on <= as_of)
        credit_stmt = credit_stmt.where(InvoiceRow.issue_date <= as_of)
        paid_stmt = paid_stmt.where(PaymentAllocationRow.applied_on <= as_of)
        written_stmt = written_stmt.where(WriteOffRow.written_off_on <= as_of)
    credits = s.execute(credit_stmt.group_by(InvoiceRow.credited_invoice_id)).all()
    paid = s.execute(paid_stmt.group_by(PaymentAllocationRow.invoice_id)).all()
    written = s.execute(written_stmt.group_by(WriteOffRow.invoice_id)).all()
    released = s.execute(released_stmt.group_by(CreditReleaseRow.invoice_id)).all()
    used = s.execute(used_stmt.group_by(CreditApplicationRow.invoice_id)).all()
    recovered = s.execute(recovered_stmt.group_by(RecoveryRow.invoice_id)).all()
    out = {i: Decimal(g) for i, g in gross.items()}
    for invoice_id, amount in (*released, *recovered):
        out[invoice_id] += Decimal(amount)
    for i, amount in credits:
        if i is not None:
            out[i] += Decimal(amount)
    for i, amount in (*paid, *written, *used):
        if i is not None:
            out[i] -= Decimal(amount)
    return out


def open_through(s: Session, invoice_id: int, on: date) -> Decimal:
    """What an invoice owed at the end of ``on`` or owes now, whichever is less: the most a
    back-dated write-off or credit use may take (it must fit that day and every later one)."""
    return min(
        outstanding_by_invoice(s, [invoice_id], on)[invoice_id],
        outstanding_by_invoice(s, [invoice_id])[invoice_id],
    )


def applied_by_invoice(s: Session, invoice_id: int) -> tuple[Decimal, Decimal]:
    """(cash and customer credit applied, overpayment already released) for one invoice."""
    paid = s.scalar(
        select(func.coalesce(func.sum(PaymentAllocationRow.amount), 0)).where(
            PaymentAllocationRow.invoice_id == invoice_id
        )
    )
    credit = s.scalar(
        select(func.coalesce(func.sum(CreditApplicationRow.amount), 0)).where(
            CreditApplicationRow.invoice_id == invoice_id
        )
    )
    released = s.scalar(
        select(func.coalesce(func.sum(CreditReleaseRow.amount), 0)).where(
            CreditReleaseRow.invoice_id == invoice_id, CreditReleaseRow.kind == "overpayment"
        )
    )
    return Decimal(paid or 0) + Decimal(credit or 0), Decimal(released or 0)


def credit_balances(
    s: Session, customer_ids: Iterable[int] | None = None, as_of: date | None = None
) -> dict[int, Decimal]:
    """Customer credit balances by customer id: overpayments released by credit notes less what
    was applied to invoices or refunded (customers whose balance is zero are left out)."""
    out: dict[int, Decimal] = {}
    for customer_id, events in credit_movements(s, customer_ids, as_of).items():
        balance = sum((amount for _, amount in events), ZERO)
        if balance != 0:
            out[customer_id] = balance
    return out


def credit_movements(
    s: Session, customer_ids: Iterable[int] | None = None, as_of: date | None = None
) -> dict[int, list[tuple[date, Decimal]]]:
    """Each customer's credit movements ``(day, +released or −used)``, in day order."""
    released = select(
        CreditReleaseRow.customer_id, CreditReleaseRow.released_on, CreditReleaseRow.amount
    ).where(CreditReleaseRow.kind == "overpayment")
    used = select(
        CreditApplicationRow.customer_id,
        CreditApplicationRow.applied_on,
        CreditApplicationRow.amount,
    )
    if customer_ids is not None:
        ids = list(customer_ids)
        released = released.where(CreditReleaseRow.customer_id.in_(ids))
        used = used.where(CreditApplicationRow.customer_id.in_(ids))
    if as_of is not None:
        released = released.where(CreditReleaseRow.released_on <= as_of)
        used = used.where(CreditApplicationRow.applied_on <= as_of)
    out: dict[int, list[tuple[date, Decimal]]] = {}
    for sign, stmt in ((1, released), (-1, used)):
        for customer_id, day, amount in s.execute(stmt).all():
            out.setdefault(customer_id, []).append((day, sign * Decimal(amount)))
    for events in out.values():
        events.sort(key=lambda e: (e[0], e[1] < 0))  # a day's releases before its uses
    return out


def unapplied_payments(s: Session, customer_id: int) -> list[tuple[PaymentRow, Decimal]]:
    applied = (
        select(PaymentAllocationRow.payment_id, func.sum(PaymentAllocationRow.amount).label("used"))
        .group_by(PaymentAllocationRow.payment_id)
        .subquery()
    )
    rows = s.execute(
        select(PaymentRow, func.coalesce(applied.c.used, 0))
        .outerjoin(applied, applied.c.payment_id == PaymentRow.id)
        .where(PaymentRow.customer_id == customer_id, PaymentRow.kind != "deposit")
        .order_by(PaymentRow.received_on, PaymentRow.id)
    ).all()
    return [(p, p.amount - Decimal(used)) for p, used in rows if p.amount - Decimal(used) > 0]


def apply_unapplied(s: Session, customer_id: int, on: date) -> Decimal:
    """Allocate unapplied cash to open invoices, oldest first; the amount applied."""
    cash = unapplied_payments(s, customer_id)
    if not cash:
        return ZERO
    s.flush()
    issued = dict(
        s.execute(
            select(InvoiceRow.id, InvoiceRow.issue_date)
            .where(InvoiceRow.customer_id == customer_id, InvoiceRow.kind == "invoice")
            .order_by(InvoiceRow.issue_date, InvoiceRow.id)
        ).all()
    )
    invoices = list(issued)
    owed = outstanding_by_invoice(s, invoices)
    applied = ZERO
    for payment, free in cash:
        for invoice_id in invoices:
            due = owed[invoice_id]
            if free <= 0:
                break
            if due <= 0:
                continue
            amount = min(free, due)
            s.add(
                PaymentAllocationRow(
                    payment_id=payment.id,
                    invoice_id=invoice_id,
                    amount=amount,
                    applied_on=max(on, payment.received_on, issued[invoice_id]),
                )
            )
            owed[invoice_id] -= amount
            free -= amount
            applied += amount
    s.flush()
    return applied
