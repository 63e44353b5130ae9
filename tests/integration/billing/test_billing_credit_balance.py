"""A customer credit balance applied to a later invoice or refunded, on SQLite and PostgreSQL
(issue 12).

acme and beta each lease one H800 server at 70,000.00 a month (VAT 13 %) from 2024-04-01, so
every monthly invoice is 79,100.00 gross. acme pays April's invoice in full on 2024-05-10; a
credit note of 10,000.00 net (11,300.00 gross) on 2024-05-20 gives acme a credit balance of
11,300.00. May's invoices are issued on 2024-06-01.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from suanli.api.app import create_app
from suanli.core.billing import parse_period
from suanli.core.errors import ConflictError, NotFoundError, SuanliError, ValidationError
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.reports.book import open_receivables
from suanli.settings import load_settings

D = Decimal
BALANCE = D("11300.00")
GROSS = D("79100.00")


class Ledger:
    def __init__(self, world: Any) -> None:
        self.world = world
        self.money = world.svc.money

    def number(self, customer: str, period: str) -> str:
        items = self.money.ledger.list_invoices(customer=customer, period=period).items
        return str(items[0].number)

    def owed(self, number: str) -> Decimal:
        return Decimal(self.money.ledger.get_invoice(number).outstanding)


@pytest.fixture
def ledger(world: Any) -> Ledger:
    world.servers(2)
    money = world.svc.money
    for code in ("acme", "beta"):
        money.tenancy.create_customer(code, code.title())
        money.leasing.create_lease(
            LeaseSpec(code, "HGX-H800-8", "70000", date(2024, 4, 1), 12, count=1), actor="sales"
        )
    world.clock.set(datetime(2024, 5, 1, 6, tzinfo=UTC))
    money.billing.run(parse_period("2024-04"))
    led = Ledger(world)
    april = led.number("acme", "2024-04")
    money.ledger.record_payment("acme", GROSS, date(2024, 5, 10))
    money.ledger.credit_note(april, "goodwill", {1: "10000"}, issue_date=date(2024, 5, 20))
    world.clock.set(datetime(2024, 6, 1, 6, tzinfo=UTC))
    money.billing.run(parse_period("2024-05"), issue_date=date(2024, 6, 1))
    world.clock.set(datetime(2024, 7, 15, 6, tzinfo=UTC))
    assert money.credits.balance("acme").balance == BALANCE
    return led


def test_applying_the_balance_pays_a_later_invoice_everywhere(ledger: Ledger) -> None:
    money, may = ledger.money, ledger.number("acme", "2024-05")
    use = money.credits.apply("acme", may, date(2024, 6, 5), "fin")
    assert (use.kind, use.amount, use.invoice, use.on) == (
        "applied",
        BALANCE,
        may,
        date(2024, 6, 5),
    )
    assert ledger.owed(may) == GROSS - BALANCE == D("67800.00")
    bal = money.credits.balance("acme")
    assert (bal.released, bal.applied, bal.refunded, bal.balance) == (BALANCE, BALANCE, 0, 0)
    assert money.credits.balance("acme", date(2024, 6, 4)).balance == BALANCE
    # aging: before the application the credit is a balance; after, the invoice owes less
    before = {r.customer: r for r in money.ledger.aging(date(2024, 6, 4))}
    assert (before["acme"].total, before["acme"].credit) == (GROSS, BALANCE)
    after = {r.customer: r for r in money.ledger.aging(date(2024, 6, 30))}
    assert (after["acme"].total, after["acme"].credit) == (D("67800.00"), 0)
    # reconciliation and the operating report's receivables agree with aging
    june = money.ledger.reconcile(parse_period("2024-06"))
    assert june.receivables_end == sum((r.total for r in after.values()), D(0))
    assert june.credit_balance_end == 0 and june.refunded == 0
    may_rec = money.ledger.reconcile(parse_period("2024-05"))
    assert (may_rec.receivables_end, may_rec.credit_balance_end) == (GROSS, BALANCE)  # beta's April
    with ledger.world.svc.sessions() as s:
        assert ("acme", date(2024, 6, 1), D("67800.00")) in open_receivables(s, date(2024, 6, 30))
    # later cash pays only what is left
    pay = money.ledger.record_payment("acme", "70000.00", date(2024, 6, 20))
    assert pay.applied == D("67800.00") and ledger.owed(may) == 0
    assert [u.ref for u in money.credits.list_uses(customer="acme")] == [use.ref]


def test_a_refund_is_cash_out_with_its_date(ledger: Ledger) -> None:
    credits = ledger.money.credits
    got = credits.refund("acme", date(2024, 5, 25), "fin", "1300.00", reference="bank 9")
    assert (got.kind, got.amount, got.invoice, got.reference) == (
        "refund",
        D("1300.00"),
        None,
        "bank 9",
    )
    assert credits.balance("acme").balance == D("10000.00")
    with pytest.raises(ConflictError) as info:
        credits.refund("acme", date(2024, 6, 1), "fin", "10000.01")
    assert (info.value.code, info.value.fields) == (
        "credit.exceeds_balance",
        {"amount": "<= 10000.00"},
    )
    assert credits.refund("acme", date(2024, 6, 10), "fin").amount == D("10000.00")  # the rest
    rec = ledger.money.ledger.reconcile(parse_period("2024-06"))
    assert (rec.refunded, rec.credit_balance_end) == (D("10000.00"), 0)
    assert ledger.money.ledger.reconcile(parse_period("2024-05")).refunded == D("1300.00")
    # the balance was 0 from 10 June on: a use dated earlier would drive it below zero later
    with pytest.raises(ConflictError) as info:
        credits.apply("acme", ledger.number("acme", "2024-05"), date(2024, 6, 5), "fin")
    assert info.value.code == "credit.no_balance"


def test_bad_uses_are_refused_with_codes(ledger: Ledger) -> None:
    credits = ledger.money.credits
    may, beta_may = ledger.number("acme", "2024-05"), ledger.number("beta", "2024-05")
    april = ledger.number("acme", "2024-04")
    cases: list[tuple[Any, type[SuanliError], str, str]] = [
        (lambda: credits.apply("acme", may, date(2024, 5, 31), "fin"), ValidationError, "credit.before_issue", "on"),
        (lambda: credits.apply("acme", may, date(2024, 7, 16), "fin"), ValidationError, "credit.future_date", "on"),
        (lambda: credits.apply("acme", may, date(2024, 6, 5), "fin", "0"), ValidationError, "credit.zero_amount", "amount"),
        (lambda: credits.apply("acme", may, date(2024, 6, 5), "fin", "-1"), ValidationError, "money.negative", "amount"),
        (lambda: credits.apply("acme", may, date(2024, 6, 5), "fin", "11300.01"), ConflictError, "credit.exceeds_balance", "amount"),
        (lambda: credits.apply("acme", beta_may, date(2024, 6, 5), "fin"), NotFoundError, "invoice.not_found", "invoice"),
        (lambda: credits.apply("acme", april, date(2024, 6, 5), "fin"), ConflictError, "credit.nothing_open", "invoice"),
        (lambda: credits.apply("beta", beta_may, date(2024, 6, 5), "fin"), ConflictError, "credit.no_balance", "customer"),
        (lambda: credits.apply("ghost", may, date(2024, 6, 5), "fin"), NotFoundError, "customer.not_found", "customer"),
        (lambda: credits.refund("acme", date(2024, 5, 19), "fin"), ConflictError, "credit.no_balance", "customer"),
    ]  # fmt: skip
    for call, kind, code, field in cases:
        with pytest.raises(kind) as info:
            call()
        assert (info.value.code, field in info.value.fields) == (code, True), code
    notes = ledger.money.ledger.list_invoices(kind="credit_note").items
    with pytest.raises(ValidationError) as bad:
        credits.apply("acme", notes[0].number, date(2024, 6, 5), "fin")
    assert bad.value.code == "credit.not_an_invoice"
    # an invoice smaller than the balance: only what it owes is applied by default, and more
    # than it owes is refused
    ledger.money.ledger.record_payment("acme", "75000.00", date(2024, 6, 2))  # 4,100.00 left
    with pytest.raises(ConflictError) as over:
        credits.apply("acme", may, date(2024, 6, 5), "fin", "5000")
    assert (over.value.code, over.value.fields) == (
        "credit.exceeds_invoice",
        {"amount": "<= 4100.00"},
    )
    assert credits.apply("acme", may, date(2024, 6, 5), "fin").amount == D("4100.00")
    assert credits.balance("acme").balance == D("7200.00") and ledger.owed(may) == 0
    assert credits.list_uses(customer="beta") == []


def test_crediting_an_invoice_paid_by_credit_gives_the_credit_back(ledger: Ledger) -> None:
    money, may = ledger.money, ledger.number("acme", "2024-05")
    money.credits.apply("acme", may, date(2024, 6, 5), "fin")
    money.ledger.credit_note(may, "cancelled", issue_date=date(2024, 6, 10))
    assert ledger.owed(may) == 0
    assert money.credits.balance("acme").balance == BALANCE  # not written off: given back


def test_credit_over_http_with_roles_and_tenants(ledger: Ledger, db_url: str, bearer: Any) -> None:
    app = create_app(load_settings(database_url=db_url), clock=ledger.world.clock)
    fin, ops = bearer(app, "fin", "finance"), bearer(app, "olga", "operator")
    ann, bea = bearer(app, "ann", "customer", "acme"), bearer(app, "bea", "customer", "beta")
    may = ledger.number("acme", "2024-05")
    base = "/api/v1/customers/acme/credit"
    body = {"invoice": may, "on": "2024-06-05", "amount": "300.00"}
    with TestClient(app) as client:
        got = client.get(base, headers=ann)
        assert got.status_code == 200 and got.json()["balance"] == "11300.00"
        assert client.get(base, headers=bea).json()["code"] == "customer.not_found"
        for who, status in ((ann, 403), (ops, 403), (bea, 403)):
            assert client.post(f"{base}/applications", json=body, headers=who).status_code == status
        done = client.post(f"{base}/applications", json=body, headers=fin)
        assert done.status_code == 201 and done.json()["amount"] == "300.00", done.text
        refund = client.post(f"{base}/refunds", json={"on": "2024-06-06"}, headers=fin)
        assert refund.status_code == 201 and refund.json()["amount"] == "11000.00", refund.text
        again = client.post(f"{base}/refunds", json={"on": "2024-06-07"}, headers=fin)
        assert (again.status_code, again.json()["code"]) == (409, "credit.no_balance")
        future = client.post(f"{base}/refunds", json={"on": "2024-07-16"}, headers=fin)
        assert (future.status_code, future.json()["code"]) == (422, "credit.future_date")
        other = client.post("/api/v1/customers/beta/credit/applications", json=body, headers=fin)
        assert (other.status_code, other.json()["code"]) == (404, "invoice.not_found")
        mine = client.get("/api/v1/credit-uses", headers=ann).json()["items"]
        assert [u["kind"] for u in mine] == ["applied", "refund"]
        assert client.get("/api/v1/credit-uses", headers=bea).json()["items"] == []
        past = client.get(base, params={"as_of": "2024-06-05"}, headers=fin).json()
        assert (past["applied"], past["refunded"], past["balance"]) == (
            "300.00",
            "0.00",
            "11000.00",
        )
