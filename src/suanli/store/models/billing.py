"""Ledger tables: invoice number series, invoices and credit notes, their lines, payments and
payment allocations, credit releases and their applications or refunds.

- Issued documents are immutable: triggers (migration ``0002_leasing_billing``) refuse updates of
  any column of ``invoice_lines`` and of the amounts and numbers of ``invoices``, and deletes of
  either. Only ``invoices.fapiao_number`` may be filled in later. Corrections are credit notes
  (``kind = 'credit_note'``, negative amounts, ``credited_invoice_id`` set).
- ``invoice_series.last_number`` is the counter of a series, updated in the same transaction as
  the invoice that takes the number, so numbers are sequential and gap-free.
- ``(customer_id, period_key)`` is unique: one run invoice per customer and month.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suanli.store.base import Base, Money, Rate, UTCDateTime
from suanli.store.models.leasing import Quantity, Ratio


class InvoiceSeriesRow(Base):
    __tablename__ = "invoice_series"

    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class InvoiceRow(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("customer_id", "period_key"),
        CheckConstraint("kind IN ('invoice', 'credit_note')", name="kind_known"),
        CheckConstraint(
            "round(gross * 100) = round(net * 100) + round(tax * 100)", name="gross_is_net_plus_tax"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    series: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    period_key: Mapped[str | None] = mapped_column(String(7))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    issue_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    net: Mapped[Decimal] = mapped_column(Money)
    tax: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    fapiao_number: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    lines: Mapped[list[InvoiceLineRow]] = relationship(order_by="InvoiceLineRow.line_no")


class InvoiceLineRow(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "line_no"),
        CheckConstraint(
            "round(gross * 100) = round(net * 100) + round(tax * 100)", name="gross_is_net_plus_tax"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    quantity: Mapped[Decimal] = mapped_column(Quantity)
    unit: Mapped[str] = mapped_column(String(16))
    unit_price: Mapped[Decimal] = mapped_column(Rate)
    net: Mapped[Decimal] = mapped_column(Money)
    vat_rate: Mapped[Decimal] = mapped_column(Ratio)
    tax: Mapped[Decimal] = mapped_column(Money)
    gross: Mapped[Decimal] = mapped_column(Money)
    service_start: Mapped[date | None] = mapped_column(Date)
    service_end: Mapped[date | None] = mapped_column(Date)


class PaymentRow(Base):
    """Money received. ``kind``: ``payment`` and ``prepayment`` are applied to invoices (oldest
    first); a ``deposit`` is held as a liability and never applied."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind IN ('payment', 'prepayment', 'deposit')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("contracts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PaymentAllocationRow(Base):
    __tablename__ = "payment_allocations"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    applied_on: Mapped[date] = mapped_column(Date)


class WriteOffRow(Base):
    """Part or all of an invoice's open balance written off as uncollectable (issue 19).

    Single writer: :mod:`suanli.services.billing.writeoffs`. Append-only like the rest of the
    ledger; the amount is gross (VAT included, as the receivable is) and never more than what
    the invoice owed on ``written_off_on``.
    """

    __tablename__ = "receivable_write_offs"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    written_off_on: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RecoveryRow(Base):
    """A write-off later recovered (issue 19): the customer paid, or agreed to pay, part or all
    of an amount written off. The recovery *reinstates* that amount on the invoice on
    ``recovered_on`` (gross, VAT included), so the cash received for it is applied like any
    other. Single writer: :mod:`suanli.services.billing.writeoffs`. Never more than what the
    write-off still has unrecovered; append-only like the rest of the ledger.
    """

    __tablename__ = "receivable_recoveries"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    write_off_id: Mapped[int] = mapped_column(ForeignKey("receivable_write_offs.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    recovered_on: Mapped[date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditReleaseRow(Base):
    """The part of a credit note that exceeded what its invoice still owed (issue 12).

    Single writer: :meth:`suanli.services.billing.receivables.LedgerService.credit_note`.
    ``kind = 'overpayment'``: cash already applied to the invoice that the credit note gives back
    to the customer; it is a customer credit balance (aging column ``credit``).
    ``kind = 'written_off'``: the part of the invoice that had been written off; crediting it
    reverses the write-off, and the customer is owed nothing for it. Either way
    ``outstanding_by_invoice`` adds the release back, so no invoice's balance goes below zero.
    Amounts are gross and positive; append-only like the rest of the ledger.
    """

    __tablename__ = "credit_releases"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("kind IN ('overpayment', 'written_off')", name="kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    released_on: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CreditApplicationRow(Base):
    """A customer credit balance used (issue 12): applied to an open invoice or refunded.

    Single writer: :mod:`suanli.services.billing.credits`. The balance of a customer on a day is
    its ``overpayment`` releases by then less its applications and refunds by then; it is never
    below zero on any day. ``kind = 'applied'`` reduces ``invoice_id``'s outstanding (read by
    ``outstanding_by_invoice``); ``kind = 'refund'`` is cash paid back (no invoice). Amounts are
    gross and positive; append-only like the rest of the ledger.
    """

    __tablename__ = "credit_applications"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(
            "(kind = 'applied' AND invoice_id IS NOT NULL) OR (kind = 'refund' AND invoice_id IS NULL)",
            name="kind_matches_invoice",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    applied_on: Mapped[date] = mapped_column(Date, index=True)
    reference: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
