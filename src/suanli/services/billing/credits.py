"""A customer's credit balance: applying it to a later open invoice, or refunding it.

Single writer of ``credit_applications``. The balance comes from credit notes on paid invoices
(``credit_releases`` of kind ``overpayment``, written by the ledger's credit note); it is used in
two ways, each a finance decision with an effective date (never in the future):

- **apply**: part or all of the balance pays an open invoice of the same customer (on or after
  its issue date). The invoice's outstanding falls by the amount from that day on, so AR aging,
  reconciliation, the dashboard and the operating report read it the same way
  (:func:`suanli.services.billing.outstanding.outstanding_by_invoice`).
- **refund**: the balance is paid back to the customer in cash (the reconciliation's
  ``refunded``).

Invariants, checked under the customer's money lock (:func:`lock_customer`) so two desks at once
cannot over-apply: the balance is never below zero on any day (an application dated in the past
must fit every later day's balance too), and an application never exceeds what the invoice owes
on its date or now. Amounts are gross (VAT included), as receivables are.

Vocabulary: a *use* is one application or refund (``CU-<id>``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suanli.core.billing import Period
from suanli.core.clock import Clock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.services.billing.numbering import lock_customer, serialise_writes
from suanli.services.billing.outstanding import (
    ZERO,
    credit_balances,
    credit_movements,
    open_through,
)
from suanli.services.common import non_negative_money, optional_text, require_text
from suanli.services.tenancy import SYSTEM, Principal, get_customer_row
from suanli.store.db import SessionFactory, transaction
from suanli.store.models import CreditApplicationRow, CreditReleaseRow, CustomerRow, InvoiceRow


@dataclass(frozen=True, slots=True)
class CreditUse:
    ref: str  # CU-<id>
    customer: str
    kind: str  # applied | refund
    amount: Decimal
    on: date
    invoice: str | None
    reference: str | None
    actor: str


@dataclass(frozen=True, slots=True)
class CreditBalance:
    customer: str
    as_of: date
    released: Decimal  # overpayments given back by credit notes, by as_of
    applied: Decimal  # applied to invoices, by as_of
    refunded: Decimal  # paid back in cash, by as_of
    balance: Decimal  # released − applied − refunded


@dataclass(frozen=True, slots=True)
class CreditFigures:
    released: Decimal  # every credit release by the period's end (both kinds)
    applied: Decimal  # customer credit applied to invoices by the end
    refunded: Decimal  # customer credit refunded within the period
    balance: Decimal  # customer credit balances at the end


def credit_figures(s: Session, period: Period) -> CreditFigures:
    """The reconciliation's credit figures for ``period`` (see :class:`CreditFigures`)."""
    last = period.end - timedelta(days=1)
    released = s.scalar(
        select(func.coalesce(func.sum(CreditReleaseRow.amount), 0)).where(
            CreditReleaseRow.released_on <= last
        )
    )
    used = dict(s.execute(
        select(CreditApplicationRow.kind, func.sum(CreditApplicationRow.amount))
        .where(CreditApplicationRow.applied_on <= last).group_by(CreditApplicationRow.kind)
    ).all())  # fmt: skip
    refunded = s.scalar(
        select(func.coalesce(func.sum(CreditApplicationRow.amount), 0)).where(
            CreditApplicationRow.kind == "refund",
            CreditApplicationRow.applied_on >= period.start,
            CreditApplicationRow.applied_on <= last,
        )
    )
    return CreditFigures(
        Decimal(released or 0),
        Decimal(used.get("applied", 0) or 0),
        Decimal(refunded or 0),
        sum(credit_balances(s, None, last).values(), ZERO),
    )


def use_ref(row_id: int) -> str:
    return f"CU-{row_id:06d}"


def _use(row: CreditApplicationRow, customer: str, invoice: str | None) -> CreditUse:
    return CreditUse(use_ref(row.id), customer, row.kind, row.amount, row.applied_on, invoice,
                     row.reference, row.actor)  # fmt: skip


def available_on(events: list[tuple[date, Decimal]], on: date) -> Decimal:
    """What may still be used on ``on``: the lowest end-of-day balance on ``on`` or any later
    day with a movement (a use dated ``on`` lowers all of them). ``events`` in day order."""
    ends: dict[date, Decimal] = {}
    balance = ZERO
    for day, amount in events:
        balance += amount
        ends[day] = balance
    at_on = sum((a for d, a in events if d <= on), ZERO)
    return min([at_on, *(b for d, b in ends.items() if d > on)])


class CreditService:
    """Credit-balance use-cases; each public method is one transaction."""

    def __init__(self, sessions: SessionFactory, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def balance(
        self, customer: str, as_of: date | None = None, principal: Principal = SYSTEM
    ) -> CreditBalance:
        day = as_of or self.clock.now().date()
        with transaction(self.sessions) as s:
            cust = get_customer_row(s, customer, principal)
            events = credit_movements(s, [cust.id], day).get(cust.id, [])
            rows = s.execute(
                select(CreditApplicationRow.kind, CreditApplicationRow.amount).where(
                    CreditApplicationRow.customer_id == cust.id,
                    CreditApplicationRow.applied_on <= day,
                )
            ).all()
        used = {k: sum((a for kind, a in rows if kind == k), ZERO) for k in ("applied", "refund")}
        released = sum((a for _, a in events if a > 0), ZERO)
        return CreditBalance(cust.code, day, released, used["applied"], used["refund"],
                             released - used["applied"] - used["refund"])  # fmt: skip

    def apply(
        self, customer: str, invoice: str, on: date, actor: str,
        amount: Decimal | str | None = None,
    ) -> CreditUse:  # fmt: skip
        """Apply ``amount`` (default: as much as the balance and the invoice allow) of the
        customer's credit balance to ``invoice``, effective ``on``."""
        actor, wanted = self._check(on, actor, amount)
        with transaction(self.sessions) as s:
            cust = self._lock(s, customer)
            row = s.scalars(select(InvoiceRow).where(InvoiceRow.number == invoice)).one_or_none()
            if row is None or row.customer_id != cust.id:
                raise NotFoundError(
                    "invoice.not_found", f"{customer} has no invoice {invoice!r}",
                    {"invoice": invoice},
                )  # fmt: skip
            if row.kind != "invoice":
                raise ValidationError(
                    "credit.not_an_invoice", f"{invoice} is a credit note", {"invoice": invoice}
                )
            if on < row.issue_date:
                raise ValidationError(
                    "credit.before_issue", f"{invoice} was issued on {row.issue_date}",
                    {"on": f">= {row.issue_date}"},
                )  # fmt: skip
            available = self._available(s, cust, on)
            open_ = open_through(s, row.id, on)
            if open_ <= 0:
                raise ConflictError(
                    "credit.nothing_open", f"{invoice} owes nothing on {on}", {"invoice": invoice}
                )
            if wanted is not None and wanted > open_:
                raise ConflictError(
                    "credit.exceeds_invoice", f"{invoice} has {open_} open on {on}",
                    {"amount": f"<= {open_}"},
                )  # fmt: skip
            amount_ = min(available, open_) if wanted is None else wanted
            use = self._record(s, cust, "applied", amount_, available, on, actor, row.id, None)
            return _use(use, cust.code, row.number)

    def refund(
        self, customer: str, on: date, actor: str, amount: Decimal | str | None = None,
        reference: str | None = None,
    ) -> CreditUse:  # fmt: skip
        """Pay ``amount`` (default: all of it) of the customer's credit balance back, on ``on``."""
        actor, wanted = self._check(on, actor, amount)
        ref = optional_text(reference, "reference")
        with transaction(self.sessions) as s:
            cust = self._lock(s, customer)
            available = self._available(s, cust, on)
            amount_ = available if wanted is None else wanted
            use = self._record(s, cust, "refund", amount_, available, on, actor, None, ref)
            return _use(use, cust.code, None)

    def list_uses(
        self, principal: Principal = SYSTEM, customer: str | None = None
    ) -> list[CreditUse]:
        """Applications and refunds, oldest first (a customer sees only its own)."""
        customer = principal.scope(customer)
        stmt = (
            select(CreditApplicationRow, CustomerRow.code, InvoiceRow.number)
            .join(CustomerRow, CustomerRow.id == CreditApplicationRow.customer_id)
            .outerjoin(InvoiceRow, InvoiceRow.id == CreditApplicationRow.invoice_id)
        )
        if customer:
            stmt = stmt.where(CustomerRow.code == customer)
        with transaction(self.sessions) as s:
            rows = s.execute(
                stmt.order_by(CreditApplicationRow.applied_on, CreditApplicationRow.id)
            ).all()
            return [_use(r, code, number) for r, code, number in rows]

    # --- helpers ----------------------------------------------------------------------------

    def _check(self, on: date, actor: str, amount: Decimal | str | None) -> tuple[str, Decimal | None]:  # fmt: skip
        actor = require_text(actor, "actor", 128)
        wanted = None if amount is None else non_negative_money(amount, "amount")
        if wanted is not None and wanted == 0:
            raise ValidationError("credit.zero_amount", "amount must be > 0", {"amount": "> 0"})
        today = self.clock.now().date()
        if on > today:
            raise ValidationError(
                "credit.future_date", "a credit is applied or refunded once decided",
                {"on": f"<= {today}"},
            )  # fmt: skip
        return actor, wanted

    def _lock(self, s: Session, customer: str) -> CustomerRow:
        serialise_writes(s)
        cust = get_customer_row(s, customer)
        lock_customer(s, cust.id)
        return cust

    def _available(self, s: Session, cust: CustomerRow, on: date) -> Decimal:
        available = available_on(credit_movements(s, [cust.id]).get(cust.id, []), on)
        if available <= 0:
            raise ConflictError(
                "credit.no_balance", f"{cust.code} has no credit balance to use on {on}",
                {"customer": cust.code},
            )  # fmt: skip
        return available

    def _record(
        self, s: Session, cust: CustomerRow, kind: str, amount: Decimal,
        available: Decimal, on: date, actor: str, invoice_id: int | None, reference: str | None,
    ) -> CreditApplicationRow:  # fmt: skip
        if amount > available:
            raise ConflictError(
                "credit.exceeds_balance", f"{cust.code} has {available} of credit on {on}",
                {"amount": f"<= {available}"},
            )  # fmt: skip
        row = CreditApplicationRow(
            customer_id=cust.id, kind=kind, invoice_id=invoice_id, amount=amount,
            applied_on=on, reference=reference, actor=actor, created_at=self.clock.now(),
        )  # fmt: skip
        s.add(row)
        s.flush()
        return row
