"""Credit notes on paid invoices, on SQLite and PostgreSQL (issue 12).

Invariant: outstanding balances are never below zero unless an overpayment is recorded as such
(a ``credit_releases`` row), and credits never exceed what was billed.

One lease of one H800 server at 70,000.00 a month (VAT 13 %) from 2024-04-01: April's invoice,
issued 2024-05-01, is 70,000.00 + 9,100.00 = 79,100.00 gross.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from suanli.core.billing import parse_period
from suanli.core.errors import ConflictError
from suanli.services.billing.leasing import LeaseSpec
from suanli.store.models import CreditReleaseRow, InvoiceRow

D = Decimal
INVOICE = "INV-2024-000001"


@pytest.fixture
def invoiced(world: Any) -> Any:
    world.servers(1)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    world.svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "70000", date(2024, 4, 1), 12, count=1), actor="sales"
    )
    world.clock.set(datetime(2024, 5, 1, 6, tzinfo=UTC))
    assert world.svc.money.billing.run(parse_period("2024-04")).created == [INVOICE]
    return world


def _releases(world: Any) -> list[tuple[str, Decimal]]:
    with world.svc.sessions() as s:
        rows = s.scalars(select(CreditReleaseRow).order_by(CreditReleaseRow.id)).all()
        return [(r.kind, r.amount) for r in rows]


def test_credit_on_a_paid_invoice_is_a_recorded_customer_credit(invoiced: Any) -> None:
    ledger = invoiced.svc.money.ledger
    ledger.record_payment("acme", "79100.00", date(2024, 5, 10))
    # 10,000.00 net = 11,300.00 gross credited after the invoice was paid in full.
    ledger.credit_note(INVOICE, "goodwill", {1: "10000"}, issue_date=date(2024, 5, 20))
    assert ledger.get_invoice(INVOICE).outstanding == D("0.00")
    assert _releases(invoiced) == [("overpayment", D("11300.00"))]
    aging = ledger.aging(date(2024, 5, 31))
    assert [(r.customer, r.total, r.credit) for r in aging] == [("acme", D("0.00"), D("11300.00"))]
    assert ledger.aging(date(2024, 5, 19)) == []  # paid in full, no credit yet


def test_credit_on_a_partly_paid_invoice_releases_only_the_excess(invoiced: Any) -> None:
    ledger = invoiced.svc.money.ledger
    ledger.record_payment("acme", "70000.00", date(2024, 5, 10))  # 9,100.00 still owed
    ledger.credit_note(INVOICE, "outage", {1: "10000"}, issue_date=date(2024, 5, 20))  # 11,300
    assert ledger.get_invoice(INVOICE).outstanding == D("0.00")
    assert _releases(invoiced) == [("overpayment", D("2200.00"))]
    # Then the rest of the invoice is credited: all of it was paid, so all of it is released.
    ledger.credit_note(INVOICE, "cancelled", issue_date=date(2024, 5, 21))
    assert ledger.get_invoice(INVOICE).outstanding == D("0.00")
    assert sum((a for _, a in _releases(invoiced)), D(0)) == D("70000.00")
    assert ledger.aging(date(2024, 6, 1))[0].credit == D("70000.00")


def test_credit_on_an_unpaid_invoice_releases_nothing(invoiced: Any) -> None:
    ledger = invoiced.svc.money.ledger
    ledger.credit_note(INVOICE, "goodwill", {1: "10000"}, issue_date=date(2024, 5, 20))
    assert ledger.get_invoice(INVOICE).outstanding == D("67800.00")
    assert _releases(invoiced) == []


def test_credit_of_a_written_off_invoice_reverses_the_write_off(invoiced: Any) -> None:
    money = invoiced.svc.money
    invoiced.clock.set(datetime(2024, 7, 1, 6, tzinfo=UTC))
    money.ledger.record_payment("acme", "9100.00", date(2024, 5, 10))
    money.writeoffs.write_off(INVOICE, date(2024, 6, 10), "insolvent", "cfo")  # 70,000.00
    money.ledger.credit_note(INVOICE, "cancelled", issue_date=date(2024, 6, 20))
    assert money.ledger.get_invoice(INVOICE).outstanding == D("0.00")
    assert _releases(invoiced) == [("overpayment", D("9100.00")), ("written_off", D("70000.00"))]
    assert money.ledger.aging(date(2024, 6, 30))[0].credit == D("9100.00")


def test_credits_never_exceed_the_invoice(invoiced: Any) -> None:
    ledger = invoiced.svc.money.ledger
    ledger.credit_note(INVOICE, "cancelled", issue_date=date(2024, 5, 20))
    with pytest.raises(ConflictError) as info:
        ledger.credit_note(INVOICE, "again", issue_date=date(2024, 5, 21))
    assert info.value.code == "credit_note.exceeds_invoice"
    with invoiced.svc.sessions() as s:
        notes = s.scalars(select(InvoiceRow.gross).where(InvoiceRow.kind == "credit_note")).all()
    assert sum(notes, D(0)) == D("-79100.00")


def test_later_cash_is_not_applied_to_a_credited_invoice(invoiced: Any) -> None:
    ledger = invoiced.svc.money.ledger
    ledger.credit_note(INVOICE, "cancelled", issue_date=date(2024, 5, 20))
    payment = ledger.record_payment("acme", "100.00", date(2024, 5, 25))
    assert payment.applied == D("0.00")
    assert ledger.get_invoice(INVOICE).outstanding == D("0.00")
