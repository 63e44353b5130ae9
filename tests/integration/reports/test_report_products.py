"""Revenue by product with a credit note, on SQLite and PostgreSQL, worked by hand.

acme leases one H800 from 2024-01-01 at 100,000.00 net (VAT 13 %) with a cabinet fee of
10,000.00 net (VAT 6 %). January's invoice (issued by the run on 2024-02-01) has a rent line of
113,000.00 gross and a fee line of 10,600.00 gross: 123,600.00. On 2024-02-10 a credit note
gives back 50,000.00 net of the rent line (56,500.00 gross); on 2024-02-20 acme pays what is
left, 67,100.00.

- Billed in February by product: rent 100,000.00 − 50,000.00 = 50,000.00, fee 10,000.00 (the
  credit note is counted under the rent it credits, not as a product of its own).
- Recognised: the credit note's −50,000.00 moves from ``credit_notes`` onto rent.
- Collected: the 67,100.00 splits over what each line still carried on 2024-02-20: rent
  113,000.00 − 56,500.00 = 56,500.00 and fee 10,600.00, exactly. Split over the original
  gross it would have been 61,344.66 and 5,755.34.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import Engine

from suanli.core.billing import month_of
from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState as S
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.container import build_services
from suanli.services.fleet.servers import NewServer
from suanli.services.reports.operating import ReportService
from suanli.services.reports.products import split_pro_rata


def test_split_pro_rata_sums_exactly() -> None:
    assert split_pro_rata(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.34"), Decimal("33.33"), Decimal("33.33"),
    ]  # fmt: skip
    assert split_pro_rata(Decimal("67100.00"), [Decimal("56500"), Decimal("10600")]) == [
        Decimal("56500.00"), Decimal("10600.00"),
    ]  # fmt: skip
    assert split_pro_rata(Decimal("5"), [Decimal(0), Decimal(0)]) == [Decimal(0), Decimal(0)]


def test_credit_note_allocated_to_the_lines_it_credits(engine: Engine) -> None:
    clock = SimClock(datetime(2023, 12, 20, 9, 0, tzinfo=UTC))
    svc = build_services(engine, clock, "CNY")
    svc.fleet.add_site("BJ1", "Beijing 1")
    svc.fleet.add_cabinet("BJ1", "A01", "100000")
    svc.fleet.add_server(NewServer("SN1", "HGX-H800-8", "2000000", state=S.DELIVERED), "ops")
    svc.fleet.transition("SN1", S.BURN_IN, "ops", "rack", cabinet="BJ1/A01")
    svc.fleet.transition("SN1", S.AVAILABLE, "ops", "burn-in passed")
    svc.money.tenancy.create_customer("acme", "Acme AI", "billing@acme.example", 30)
    svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100000", date(2024, 1, 1), 12, count=1,
                  cabinet_fee="10000"), "ops",
    )  # fmt: skip
    clock.set(datetime(2024, 2, 1, 6, 0, tzinfo=UTC))
    svc.money.billing.run(month_of(date(2024, 1, 1)))
    number = svc.money.ledger.list_invoices(customer="acme").items[0].number
    invoice = svc.money.ledger.get_invoice(number)
    assert [(ln.kind, ln.gross) for ln in invoice.lines] == [
        ("rent", Decimal("113000.00")), ("fee", Decimal("10600.00")),
    ]  # fmt: skip
    clock.set(datetime(2024, 2, 10, 9, 0, tzinfo=UTC))
    svc.money.ledger.credit_note(invoice.number, "goodwill", {1: "50000"})
    clock.set(datetime(2024, 2, 20, 9, 0, tzinfo=UTC))
    svc.money.ledger.record_payment("acme", "67100.00", date(2024, 2, 20))
    clock.set(datetime(2024, 3, 5, 9, 0, tzinfo=UTC))
    report = ReportService(svc.sessions, clock, svc.catalog).generate("2024-02", "t").report
    f = report.figures()
    assert f["revenue.by_product.rent.billed_net"] == "50000.00"
    assert f["revenue.by_product.fee.billed_net"] == "10000.00"
    assert f["revenue.by_product.rent.collected"] == "56500.00"
    assert f["revenue.by_product.fee.collected"] == "10600.00"
    assert f["revenue.collected_applied"] == "67100.00"
    assert "revenue.by_product.credit_notes.recognised" not in f
    # the by-product table adds up to the section's totals
    billed = sum(
        Decimal(v) for k, v in f.items() if k.endswith(".billed_net") and ".by_product." in k
    )
    recognised = sum(
        Decimal(v) for k, v in f.items() if k.endswith(".recognised") and ".by_product." in k
    )
    assert billed == Decimal(f["revenue.billed_net"]) == Decimal("60000.00")
    assert recognised == Decimal(f["revenue.recognised"])
