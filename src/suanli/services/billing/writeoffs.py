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

Recoveries (``receivable_recoveries``, single writer :meth:`WriteOffService.recover`): when a
written-off amount turns out collectable after all (the customer, or its insolvency
administrator, pays), the recovery *reinstates* that part of the write-off on the invoice from
its effective date, and any unapplied cash of the customer is then applied, oldest invoice
first, as on any receipt. The cash itself is a payment like any other (recorded before or
after). A recovery is at most what the write-off still has unrecovered, and at most what the
invoice still has written off net of credit notes that released a written-off part, so the
invoice never owes more than it was billed; it is dated on or after the write-off and never in
the future. Readers see ``outstanding = ... − written off + recovered`` through
:func:`~suanli.services.billing.outstanding.outstanding_by_invoice`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.services.billing.numbering import lock_customer, serialise_writes
from suanli.services.billing.outstanding import apply_unapplied, open_through
from suanli.services.common import non_negative_money, require_text
from suanli.services.tenancy import SYSTEM, Principal
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import CreditReleaseRow, CustomerRow, InvoiceRow, RecoveryRow, WriteOffRow


@dataclass(frozen=True, slots=True)
class WriteOff:
    ref: str  # WO-<id>
    invoice: str
    customer: str
    amount: Decimal
    written_off_on: date
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class Recovery:
    ref: str  # RC-<id>
    write_off: str  # WO-<id>
    invoice: str
    customer: str
    amount: Decimal
    recovered_on: date
    reason: str
    actor: str
    applied: Decimal  # unapplied cash of the customer applied once the amount was reinstated


def write_off_ref(row_id: int) -> str:
    return f"WO-{row_id:06d}"


def recovery_ref(row_id: int) -> str:
    return f"RC-{row_id:06d}"


def _write_off_id(ref: str) -> int:
    head, _, digits = ref.strip().upper().partition("-")
    if head != "WO" or not (digits.isascii() and digits.isdigit() and len(digits) <= 9):
        raise ValidationError("recovery.invalid_write_off", f"{ref!r} is not a write-off reference",
                              {"write_off": "WO-<number>, e.g. WO-000001"})  # fmt: skip
    return int(digits)


def _sum(s: Session, column: Any, *where: Any) -> Decimal:
    return Decimal(s.scalar(select(func.coalesce(func.sum(column), 0)).where(*where)) or 0)


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
            open_ = open_through(s, row.id, on)
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
        with transaction(self.sessions) as s:
            return write_offs_in(s, principal.scope(customer), start, end)

    def recover(
        self, write_off: str, on: date, reason: str, actor: str,
        amount: Decimal | str | None = None,
    ) -> Recovery:  # fmt: skip
        """Reinstate ``amount`` (default: all still unrecovered) of ``write_off`` effective
        ``on``, then apply the customer's unapplied cash (see the module's docstring)."""
        reason = require_text(reason, "reason", 2000)
        actor = require_text(actor, "actor", 128)
        wanted = None if amount is None else non_negative_money(amount, "amount")
        if wanted is not None and wanted == 0:
            raise ValidationError("recovery.zero_amount", "amount must be > 0", {"amount": "> 0"})
        today = self.clock.now().date()
        if on > today:
            raise ValidationError("recovery.future_date", "a recovery takes effect once agreed",
                                  {"on": f"<= {today}"})  # fmt: skip
        wid = _write_off_id(write_off)
        with transaction(self.sessions) as s:
            serialise_writes(s)
            w = s.get(WriteOffRow, wid)
            if w is None:
                raise NotFoundError("recovery.write_off_not_found", f"no write-off {write_off!r}",
                                    {"write_off": write_off})  # fmt: skip
            lock_customer(s, w.customer_id)
            if on < w.written_off_on:
                raise ValidationError(
                    "recovery.before_write_off", f"{write_off_ref(w.id)} took effect on {w.written_off_on}",
                    {"on": f">= {w.written_off_on}"},
                )  # fmt: skip
            left = w.amount - _sum(s, RecoveryRow.amount, RecoveryRow.write_off_id == w.id)
            on_invoice = (
                _sum(s, WriteOffRow.amount, WriteOffRow.invoice_id == w.invoice_id)
                - _sum(s, RecoveryRow.amount, RecoveryRow.invoice_id == w.invoice_id)
                - _sum(s, CreditReleaseRow.amount, CreditReleaseRow.invoice_id == w.invoice_id,
                       CreditReleaseRow.kind == "written_off")
            )  # fmt: skip
            open_ = min(left, on_invoice)
            if open_ <= 0:
                raise ConflictError("recovery.nothing_left",
                                    f"{write_off_ref(w.id)} has nothing left to recover",
                                    {"write_off": write_off_ref(w.id)})  # fmt: skip
            if wanted is not None and wanted > open_:
                raise ConflictError("recovery.exceeds_write_off",
                                    f"{write_off_ref(w.id)} has {open_} left to recover",
                                    {"amount": f"<= {open_}"})  # fmt: skip
            entry = RecoveryRow(
                write_off_id=w.id, invoice_id=w.invoice_id, customer_id=w.customer_id,
                amount=wanted or open_, recovered_on=on, reason=reason, actor=actor,
                created_at=self.clock.now(),
            )  # fmt: skip
            s.add(entry)
            s.flush()
            applied = apply_unapplied(s, w.customer_id, on)
            number = s.scalar(select(InvoiceRow.number).where(InvoiceRow.id == w.invoice_id))
            code = s.scalar(select(CustomerRow.code).where(CustomerRow.id == w.customer_id))
            return _recovery(entry, number or "", code or "", applied)

    def list_recoveries(
        self, principal: Principal = SYSTEM, customer: str | None = None,
        start: date | None = None, end: date | None = None,
    ) -> list[Recovery]:  # fmt: skip
        """Recoveries effective in ``[start, end)`` (either bound optional), oldest first;
        ``applied`` is reported as 0 (it belongs to the moment of recording)."""
        with transaction(self.sessions) as s:
            return recoveries_in(s, principal.scope(customer), start, end)


def _dated(model: Any, day: Any, customer: str | None, start: date | None,
           end: date | None) -> Any:  # fmt: skip
    """``model`` rows with their invoice number and customer code, ``day`` in ``[start, end)``."""
    stmt = (
        select(model, InvoiceRow.number, CustomerRow.code)
        .join(InvoiceRow, InvoiceRow.id == model.invoice_id)
        .join(CustomerRow, CustomerRow.id == model.customer_id)
    )
    if customer:
        stmt = stmt.where(CustomerRow.code == customer)
    if start is not None:
        stmt = stmt.where(day >= start)
    if end is not None:
        stmt = stmt.where(day < end)
    return stmt.order_by(day, model.id)


def write_offs_in(s: Session, customer: str | None = None, start: date | None = None,
                  end: date | None = None) -> list[WriteOff]:  # fmt: skip
    """Write-offs effective in ``[start, end)``, oldest first (inside a session)."""
    rows = s.execute(_dated(WriteOffRow, WriteOffRow.written_off_on, customer, start, end)).all()
    return [_from_row(r, number, code) for r, number, code in rows]


def recoveries_in(s: Session, customer: str | None = None, start: date | None = None,
                  end: date | None = None) -> list[Recovery]:  # fmt: skip
    """Recoveries effective in ``[start, end)``, oldest first (inside a session)."""
    rows = s.execute(_dated(RecoveryRow, RecoveryRow.recovered_on, customer, start, end)).all()
    return [_recovery(r, number, code, Decimal("0.00")) for r, number, code in rows]


def _recovery(r: RecoveryRow, invoice: str, customer: str, applied: Decimal) -> Recovery:
    return Recovery(recovery_ref(r.id), write_off_ref(r.write_off_id), invoice, customer,
                    r.amount, r.recovered_on, r.reason, r.actor, applied)  # fmt: skip
