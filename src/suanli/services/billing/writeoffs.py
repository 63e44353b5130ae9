"""Receivable write-offs: part or all of an invoice's open balance declared uncollectable.

Single writer of ``receivable_write_offs``. A write-off is a finance decision with a reason and
an effective date (the day it was decided, never in the future, never before the invoice was
issued); it is append-only like the rest of the ledger. Its effect on every reader goes through
:func:`suanli.services.billing.outstanding.outstanding_by_invoice`, which subtracts write-offs
effective by the day asked for, so AR aging, the invoice's outstanding amount, cash
application (no cash is applied to a written-off balance) and the operating report's ECL
allowance movement all see it the same way.

Invariant: the amount written off is at most what the invoice owed on the effective date *and*
what it owes now (cash applied later may have reduced it), so no balance goes negative on any
day. The amount is gross, VAT included, as the receivable is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.services.billing.numbering import lock_customer, serialise_writes
from suanli.services.billing.outstanding import outstanding_by_invoice
from suanli.services.common import non_negative_money, require_text
from suanli.services.tenancy import SYSTEM, Principal
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import CustomerRow, InvoiceRow, WriteOffRow


@dataclass(frozen=True, slots=True)
class WriteOff:
    ref: str  # WO-<id>
    invoice: str
    customer: str
    amount: Decimal
    written_off_on: date
    reason: str
    actor: str


def write_off_ref(row_id: int) -> str:
    return f"WO-{row_id:06d}"


def _from_row(row: WriteOffRow, invoice: str, customer: str) -> WriteOff:
    return WriteOff(write_off_ref(row.id), invoice, customer, row.amount, row.written_off_on,
                    row.reason, row.actor)  # fmt: skip


def _invoice(s: Session, number: str) -> InvoiceRow:
    row = s.scalars(select(InvoiceRow).where(InvoiceRow.number == number)).one_or_none()
    if row is None:
        raise NotFoundError("invoice.not_found", f"no invoice {number!r}", {"invoice": number})
    if row.kind != "invoice":
        raise ValidationError(
            "writeoff.not_an_invoice", f"{number} is a credit note", {"invoice": number}
        )
    return row


class WriteOffService:
    """Write-off use-cases; each public method is one transaction."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def write_off(
        self, invoice: str, on: date, reason: str, actor: str,
        amount: Decimal | str | None = None,
    ) -> WriteOff:  # fmt: skip
        """Write off ``amount`` (default: all that is open) of ``invoice`` effective ``on``."""
        reason = require_text(reason, "reason", 2000)
        actor = require_text(actor, "actor", 128)
        wanted = None if amount is None else non_negative_money(amount, "amount")
        if wanted is not None and wanted == 0:
            raise ValidationError("writeoff.zero_amount", "amount must be > 0", {"amount": "> 0"})
        today = self.clock.now().date()
        if on > today:
            raise ValidationError(
                "writeoff.future_date",
                "a write-off takes effect once decided",
                {"on": f"<= {today}"},
            )
        with transaction(self.sessions) as s:
            serialise_writes(s)
            row = _invoice(s, invoice)
            lock_customer(s, row.customer_id)
            if on < row.issue_date:
                raise ValidationError(
                    "writeoff.before_issue", f"{invoice} was issued on {row.issue_date}",
                    {"on": f">= {row.issue_date}"},
                )  # fmt: skip
            open_then = outstanding_by_invoice(s, [row.id], on)[row.id]
            open_now = outstanding_by_invoice(s, [row.id])[row.id]
            open_ = min(open_then, open_now)
            if open_ <= 0:
                raise ConflictError(
                    "writeoff.nothing_open", f"{invoice} owes nothing on {on}", {"invoice": invoice}
                )
            if wanted is not None and wanted > open_:
                raise ConflictError(
                    "writeoff.exceeds_open", f"{invoice} has {open_} open on {on}",
                    {"amount": f"<= {open_}"},
                )  # fmt: skip
            entry = WriteOffRow(
                invoice_id=row.id, customer_id=row.customer_id, amount=wanted or open_,
                written_off_on=on, reason=reason, actor=actor, created_at=self.clock.now(),
            )  # fmt: skip
            s.add(entry)
            s.flush()
            code = s.scalar(select(CustomerRow.code).where(CustomerRow.id == row.customer_id))
            return _from_row(entry, row.number, code or "")

    def list_write_offs(
        self, principal: Principal = SYSTEM, customer: str | None = None,
        start: date | None = None, end: date | None = None,
    ) -> list[WriteOff]:  # fmt: skip
        """Write-offs effective in ``[start, end)`` (either bound optional), oldest first."""
        customer = principal.scope(customer)
        stmt = (
            select(WriteOffRow, InvoiceRow.number, CustomerRow.code)
            .join(InvoiceRow, InvoiceRow.id == WriteOffRow.invoice_id)
            .join(CustomerRow, CustomerRow.id == WriteOffRow.customer_id)
        )
        if customer:
            stmt = stmt.where(CustomerRow.code == customer)
        if start is not None:
            stmt = stmt.where(WriteOffRow.written_off_on >= start)
        if end is not None:
            stmt = stmt.where(WriteOffRow.written_off_on < end)
        with transaction(self.sessions) as s:
            rows = s.execute(stmt.order_by(WriteOffRow.written_off_on, WriteOffRow.id)).all()
            return [_from_row(r, number, code) for r, number, code in rows]
