"""Receivable write-offs and dated lease renewals, on SQLite and PostgreSQL.

One lease of one H800 server at 70,000.00 a month (VAT 13 %) from 2024-04-01: April's invoice,
issued 2024-05-01, is 70,000.00 + 9,100.00 = 79,100.00 gross.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from suanli.api.app import create_app
from suanli.core.billing import parse_period
from suanli.core.errors import ConflictError, NotFoundError, SuanliError, ValidationError
from suanli.services.billing.leasing import LeaseSpec
from suanli.settings import load_settings
from suanli.store.models import ContractRenewalRow, WriteOffRow

INVOICE = "INV-2024-000001"


def _lease(**kw: Any) -> LeaseSpec:
    base: dict[str, Any] = dict(customer="acme", sku="HGX-H800-8", monthly_rent="70000",
                                start=date(2024, 4, 1), term_months=12, count=1)  # fmt: skip
    base.update(kw)
    return LeaseSpec(**base)


@pytest.fixture
def invoiced(world: Any) -> Any:
    world.servers(1)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    world.svc.money.leasing.create_lease(_lease(), actor="sales")
    world.clock.set(datetime(2024, 5, 1, 6, tzinfo=UTC))
    assert world.svc.money.billing.run(parse_period("2024-04")).created == [INVOICE]
    return world


def _count(world: Any, model: Any) -> int:
    with world.svc.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_write_off_leaves_the_receivable_on_its_date(invoiced: Any) -> None:
    money = invoiced.svc.money
    money.ledger.record_payment("acme", "9100.00", date(2024, 5, 10))
    invoiced.clock.set(datetime(2024, 6, 15, 9, tzinfo=UTC))
    w = money.writeoffs.write_off(INVOICE, date(2024, 6, 10), "partial settlement", "cfo", "30000")
    assert (w.ref, w.invoice, w.customer, w.amount) == ("WO-000001", INVOICE, "acme", Decimal("30000.00"))  # fmt: skip
    # aging before the effective date is unchanged; from it on, the balance is net
    assert money.ledger.aging(date(2024, 6, 9))[0].buckets["31-60"] == Decimal("70000.00")
    assert money.ledger.aging(date(2024, 6, 10))[0].buckets["31-60"] == Decimal("40000.00")
    assert money.ledger.get_invoice(INVOICE).outstanding == Decimal("40000.00")
    rest = money.writeoffs.write_off(INVOICE, date(2024, 6, 15), "customer insolvent", "cfo")
    assert rest.amount == Decimal("40000.00")  # default: all that is open
    assert money.ledger.aging(date(2024, 6, 15)) == []
    assert money.ledger.list_invoices(unpaid=True).total == 0
    # cash received after the write-off is not applied to the written-off balance
    assert money.ledger.record_payment("acme", "5000", date(2024, 6, 20)).applied == 0
    june = money.ledger.reconcile(parse_period("2024-06"))
    assert (june.receivables_end, june.unapplied_cash_end) == (Decimal(0), Decimal("5000.00"))
    may = money.ledger.reconcile(parse_period("2024-05"))
    assert may.receivables_end == Decimal("70000.00")
    listed = money.writeoffs.list_write_offs(start=date(2024, 6, 1), end=date(2024, 7, 1))
    assert [x.ref for x in listed] == ["WO-000001", "WO-000002"]


@pytest.mark.parametrize(
    ("args", "error", "code", "field"),
    [
        ((INVOICE, date(2024, 7, 2), "r", "1"), ValidationError, "writeoff.future_date", "on"),
        ((INVOICE, date(2024, 4, 30), "r", "1"), ValidationError, "writeoff.before_issue", "on"),
        ((INVOICE, date(2024, 6, 1), "r", "79100.01"), ConflictError, "writeoff.exceeds_open", "amount"),
        ((INVOICE, date(2024, 6, 1), "r", "0"), ValidationError, "writeoff.zero_amount", "amount"),
        ((INVOICE, date(2024, 6, 1), "r", "1.001"), ValidationError, "money.too_precise", "amount"),
        ((INVOICE, date(2024, 6, 1), " ", "1"), ValidationError, "input.required", "reason"),
        (("INV-404", date(2024, 6, 1), "r", "1"), NotFoundError, "invoice.not_found", "invoice"),
    ],
)  # fmt: skip
def test_bad_write_off_writes_nothing(
    invoiced: Any, args: tuple[Any, ...], error: type[SuanliError], code: str, field: str
) -> None:
    invoiced.clock.set(datetime(2024, 7, 1, 9, tzinfo=UTC))
    number, on, reason, amount = args
    with pytest.raises(error) as info:
        invoiced.svc.money.writeoffs.write_off(number, on, reason, "cfo", amount)
    assert (info.value.code, field in info.value.fields) == (code, True)
    assert _count(invoiced, WriteOffRow) == 0


def test_write_off_never_exceeds_what_is_owed_now(invoiced: Any) -> None:
    """Cash applied after the effective date caps a back-dated write-off."""
    money = invoiced.svc.money
    money.ledger.record_payment("acme", "79000", date(2024, 5, 20))
    invoiced.clock.set(datetime(2024, 6, 1, 9, tzinfo=UTC))
    with pytest.raises(ConflictError) as info:
        money.writeoffs.write_off(INVOICE, date(2024, 5, 2), "r", "cfo", "200")
    assert info.value.fields == {"amount": "<= 100.00"}
    assert money.writeoffs.write_off(INVOICE, date(2024, 5, 2), "r", "cfo").amount == 100
    with pytest.raises(ConflictError) as nothing:
        money.writeoffs.write_off(INVOICE, date(2024, 5, 30), "r", "cfo")
    assert nothing.value.code == "writeoff.nothing_open"
    note = money.ledger.credit_note(INVOICE, "goodwill", {1: "10"})
    with pytest.raises(ValidationError) as cn:
        money.writeoffs.write_off(note.number, date(2024, 6, 1), "r", "cfo")
    assert cn.value.code == "writeoff.not_an_invoice"


def test_renewals_are_recorded_with_their_date(world: Any) -> None:
    world.servers(2)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    leasing = world.svc.money.leasing
    manual = leasing.create_lease(_lease(term_months=3), actor="sales")
    auto = leasing.create_lease(_lease(term_months=3, auto_renew=True), actor="sales")
    world.clock.set(datetime(2024, 6, 10, 9, tzinfo=UTC))
    with pytest.raises(ValidationError) as future:
        leasing.renew(manual.number, 6, "sales", date(2024, 6, 11))
    assert (future.value.code, "on" in future.value.fields) == ("contract.future_renewal", True)
    with pytest.raises(ValidationError) as before:
        leasing.renew(manual.number, 6, "sales", date(2024, 3, 31))
    assert before.value.code == "contract.invalid_renewal_date"
    assert leasing.renew(manual.number, 6, "sales", date(2024, 6, 5)).end_date == date(2025, 1, 1)
    world.clock.set(datetime(2024, 7, 1, 0, tzinfo=UTC))
    leasing.release_due("ops")
    with world.svc.sessions() as s:
        rows = s.scalars(select(ContractRenewalRow).order_by(ContractRenewalRow.id)).all()
        got = [(r.contract_id, r.renewed_on, r.months, r.previous_end, r.new_end, r.automatic,
                r.actor) for r in rows]  # fmt: skip
    assert got == [
        (1, date(2024, 6, 5), 6, date(2024, 7, 1), date(2025, 1, 1), False, "sales"),
        (2, date(2024, 7, 1), 3, date(2024, 7, 1), date(2024, 10, 1), True, "ops"),
    ]
    assert leasing.get_contract(auto.number).end_date == date(2024, 10, 1)


def test_write_off_api_is_for_finance(invoiced: Any, db_url: str, bearer: Any) -> None:
    invoiced.clock.set(datetime(2024, 6, 1, 9, tzinfo=UTC))
    app = create_app(load_settings(database_url=db_url), clock=invoiced.clock)
    fin, op = bearer(app, "fin", "finance"), bearer(app, "op", "operator")
    body = {"on": "2024-05-31", "reason": "insolvent", "amount": "100.00"}
    with TestClient(app) as client:
        denied = client.post(f"/api/v1/invoices/{INVOICE}/write-offs", json=body, headers=op)
        assert (denied.status_code, denied.json()["code"]) == (403, "auth.forbidden")
        made = client.post(f"/api/v1/invoices/{INVOICE}/write-offs", json=body, headers=fin)
        assert made.status_code == 201, made.text
        assert (made.json()["amount"], made.json()["actor"]) == ("100.00", "fin")
        too_much = client.post(f"/api/v1/invoices/{INVOICE}/write-offs",
                               json={**body, "amount": "79000.01"}, headers=fin)  # fmt: skip
        assert (too_much.status_code, too_much.json()["code"]) == (409, "writeoff.exceeds_open")
        listed = client.get("/api/v1/write-offs", headers=fin).json()["items"]
        assert [(x["ref"], x["invoice"]) for x in listed] == [("WO-000001", INVOICE)]
        assert client.get("/api/v1/write-offs", headers=op).status_code == 403
        renew = client.post("/api/v1/contracts/L-000001/renew",
                            json={"months": 2, "on": "2024-05-30"}, headers=op)  # fmt: skip
        assert renew.status_code == 200 and renew.json()["end_date"] == "2025-06-01"


def test_concurrent_write_offs_never_exceed_the_balance(invoiced: Any) -> None:
    """Ten finance desks write off 30,000.00 of the 79,100.00 invoice at once: two succeed, the
    others are refused, the balance never goes below zero (the customer's money lock)."""
    invoiced.clock.set(datetime(2024, 6, 1, 9, tzinfo=UTC))
    writeoffs = invoiced.svc.money.writeoffs
    barrier, lock = threading.Barrier(10), threading.Lock()
    done: list[object] = []
    errors: list[BaseException] = []

    def desk(i: int) -> None:
        barrier.wait()
        try:
            got = writeoffs.write_off(INVOICE, date(2024, 5, 31), f"desk {i}", "cfo", "30000")
            with lock:
                done.append(got)
        except BaseException as exc:  # collected and asserted below
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=desk, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 2, errors
    assert all(isinstance(e, ConflictError) and e.code == "writeoff.exceeds_open" for e in errors)
    assert invoiced.svc.money.ledger.get_invoice(INVOICE).outstanding == Decimal("19100.00")
