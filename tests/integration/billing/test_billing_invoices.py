"""The invoice run, revenue recognition and the ledger on SQLite and PostgreSQL, against figures
computed by hand in this file (April 2024 has 30 days; rounding ROUND_HALF_UP per line)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import select, update

from suanli.core.billing import parse_period
from suanli.core.errors import ConflictError
from suanli.core.fleet import ServerState as S
from suanli.services.billing.leasing import LeaseSpec, ReservedSpec
from suanli.services.fleet.servers import NewServer
from suanli.store.db import make_session_factory, transaction
from suanli.store.models import InvoiceLineRow, InvoiceRow, InvoiceSeriesRow

APRIL = parse_period("2024-04")
MAY = parse_period("2024-05")


def at(day: int, hour: int = 0, month: int = 4) -> str:
    return datetime(2024, month, day, hour, tzinfo=UTC).isoformat()


def setup_april(world) -> None:  # type: ignore[no-untyped-def]
    m = world.svc.money
    world.servers(2)
    m.tenancy.create_customer("acme", "Acme AI")
    m.tenancy.create_customer("beta", "Beta University", payment_terms_days=60)
    m.metering.set_price("HGX-H800-8", "standard", "15", date(2024, 1, 1))
    m.metering.set_price("HGX-H800-8", "spot", "6", date(2024, 1, 1))
    m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "70000", date(2024, 4, 16), 12, count=2,
                  cabinet_fee="3000", om_fee="1500"), actor="sales")  # fmt: skip
    m.leasing.create_reserved(
        ReservedSpec("beta", "HGX-H800-8", 16, "10", date(2024, 4, 1), 3, min_commitment="0.5"),
        actor="sales",
    )
    world.clock.set(datetime(2024, 4, 20, tzinfo=UTC))
    m.leasing.server_failed("SN000", "noc", "PSU")
    world.clock.set(datetime(2024, 4, 21, 6, tzinfo=UTC))
    m.leasing.server_restored("SN000", "noc")
    result = m.metering.ingest([
        dict(event_id="e1", customer="acme", sku="HGX-H800-8", priority_class="standard", job_id="j1", started_at=at(17), ended_at=at(17, 1), gpu_seconds="28800"),
        dict(event_id="e2", customer="acme", sku="HGX-H800-8", priority_class="standard", job_id="j2", started_at=at(18), ended_at=at(18, 1), gpu_seconds="14400.5"),
        dict(event_id="e3", customer="acme", sku="HGX-H800-8", priority_class="spot", job_id="j3", started_at=at(19), ended_at=at(19, 1), gpu_seconds="3600"),
        dict(event_id="e5", customer="beta", sku="HGX-H800-8", priority_class="reserved", job_id="j5", started_at=at(2), ended_at=at(3), gpu_seconds="360000"),
    ])  # fmt: skip
    assert result.accepted == 4 and not result.rejected
    m.ledger.record_payment("beta", "10000", date(2024, 4, 5), kind="prepayment", reference="PO-77")


def test_invoice_run_figures(world) -> None:  # type: ignore[no-untyped-def]
    setup_april(world)
    m = world.svc.money
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    run = m.billing.run(APRIL)
    assert run.created == ["INV-2024-000001", "INV-2024-000002"] and run.skipped == []
    acme = m.ledger.get_invoice("INV-2024-000001")
    got = [(ln.kind, ln.quantity, ln.net, ln.vat_rate, ln.tax) for ln in acme.lines]
    assert got == [
        ("rent", 30, D("70000.00"), D("0.13"), D("9100.00")),  # 2 servers × 15 days
        ("fee", 30, D("3000.00"), D("0.06"), D("180.00")),
        ("fee", 30, D("1500.00"), D("0.06"), D("90.00")),
        (
            "sla_credit",
            D("30.000"),
            D("-2916.67"),
            D("0.13"),
            D("-379.17"),
        ),  # 30 h > 3.6 h allowance
        ("usage", D("1.000"), D("6.00"), D("0.06"), D("0.36")),  # spot sorts before standard
        ("usage", D("12.000"), D("180.00"), D("0.06"), D("10.80")),  # 43200.5 s × 15 / 3600
    ]
    assert acme.net == sum(ln.net for ln in acme.lines) == D("71769.33")
    assert acme.tax == sum(ln.tax for ln in acme.lines) and acme.gross == acme.net + acme.tax
    assert acme.due_date == date(2024, 5, 31) and acme.period == "2024-04"
    beta = m.ledger.get_invoice("INV-2024-000002")
    assert [(ln.kind, ln.quantity, ln.net) for ln in beta.lines] == [
        ("true_up", D("5660.000"), D("56600.00")),  # 16 GPUs × 720 h × 0.5 − 100 h used
        ("usage", D("100.000"), D("1000.00")),
    ]
    assert beta.gross == D("61056.00") and beta.outstanding == D("51056.00")  # prepayment applied
    assert beta.due_date == date(2024, 6, 30)
    # running the period again creates nothing
    again = m.billing.run(APRIL)
    assert again.created == [] and sorted(again.skipped) == ["acme", "beta"]
    assert m.ledger.list_invoices().total == 2


def test_late_usage_goes_to_the_next_invoice_and_revenue_of_its_month(world) -> None:  # type: ignore[no-untyped-def]
    setup_april(world)
    m = world.svc.money
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    m.billing.run(APRIL)
    april_revenue = m.billing.revenue(APRIL)
    world.clock.set(datetime(2024, 5, 3, tzinfo=UTC))
    late = dict(event_id="e4", customer="acme", sku="HGX-H800-8", priority_class="standard", job_id="j4",
                started_at=at(25), ended_at=at(25, 1), gpu_seconds="7200")  # fmt: skip
    assert m.metering.ingest([late]).accepted == 1
    assert m.metering.ingest([late]).duplicates == 1  # idempotent
    assert m.billing.revenue(APRIL)["usage"] == april_revenue["usage"] + D("30.00")
    world.clock.set(datetime(2024, 6, 1, tzinfo=UTC))
    m.billing.run(MAY)
    may = m.ledger.list_invoices(customer="acme", period="2024-05").items[0]
    lines = m.ledger.get_invoice(may.number).lines
    assert [(ln.description, ln.net) for ln in lines if ln.kind == "usage"] == [
        ("HGX-H800-8 standard GPU-hours, 2024-04", D("30.00"))
    ]
    rent = next(ln for ln in lines if ln.kind == "rent")
    assert rent.quantity == 62 and rent.net == D("140000.00")  # a full month for both servers


class Crash:
    """Fails the invoice of one customer just before it would commit."""

    def __init__(self, customer: str) -> None:
        self.customer = customer
        self.seen: list[str] = []

    def before_commit(self, customer: str, number: str) -> None:
        self.seen.append(number)
        if customer == self.customer:
            raise RuntimeError("killed")


def test_killed_run_leaves_complete_invoices_and_no_gap(world, engine) -> None:  # type: ignore[no-untyped-def]
    setup_april(world)
    m = world.svc.money
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    crash = Crash("beta")
    with pytest.raises(RuntimeError):
        m.billing.run(APRIL, hooks=crash)
    assert crash.seen == ["INV-2024-000001", "INV-2024-000002"]
    assert [i.number for i in m.ledger.list_invoices().items] == ["INV-2024-000001"]
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        assert s.get(InvoiceSeriesRow, "INV-2024").last_number == 1  # the number was not burnt
        assert s.scalar(select(InvoiceLineRow.id).where(InvoiceLineRow.invoice_id == 2)) is None
    run = m.billing.run(APRIL)
    assert run.created == ["INV-2024-000002"] and run.skipped == ["acme"]
    assert m.ledger.get_invoice("INV-2024-000002").net == D("57600.00")


def test_issued_invoices_are_immutable_and_corrected_by_credit_notes(world, engine) -> None:  # type: ignore[no-untyped-def]
    setup_april(world)
    m = world.svc.money
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    m.billing.run(APRIL)
    sessions = make_session_factory(engine)
    for stmt in (
        update(InvoiceRow)
        .where(InvoiceRow.number == "INV-2024-000001")
        .values(net=D("1.00"), gross=D("1.00"), tax=0),
        update(InvoiceLineRow).where(InvoiceLineRow.line_no == 1).values(description="edited"),
    ):
        with pytest.raises(Exception, match="immutable"), transaction(sessions) as s:
            s.execute(stmt)
    assert m.ledger.set_fapiao("INV-2024-000001", "FP-0001").fapiao_number == "FP-0001"
    world.clock.set(datetime(2024, 5, 6, tzinfo=UTC))
    note = m.ledger.credit_note("INV-2024-000001", "goodwill", {1: "1000"})
    assert note.number == "CN-2024-000001" and (note.net, note.tax) == (D("-1000.00"), D("-130.00"))
    assert note.credited_invoice == "INV-2024-000001"
    inv = m.ledger.get_invoice("INV-2024-000001")
    assert inv.outstanding == inv.gross - D("1130.00")
    with pytest.raises(ConflictError) as info:
        m.ledger.credit_note("INV-2024-000001", "too much", {1: "69000.01"})
    assert info.value.code == "credit_note.exceeds_line"


def test_payments_aging_and_reconciliation(world) -> None:  # type: ignore[no-untyped-def]
    setup_april(world)
    m = world.svc.money
    m.ledger.record_payment("acme", "5000", date(2024, 4, 10), kind="deposit")
    april = m.ledger.reconcile(APRIL)
    revenue = sum(m.billing.revenue(APRIL).values(), D(0))
    assert revenue == D("71769.33") + D("57600.00")  # acme (fees as principal) + beta
    assert (april.billed_net, april.recognised, april.collected) == (D(0), revenue, D("15000.00"))
    assert april.unbilled_revenue_end == revenue  # earned in April, invoiced on 1 May
    assert april.deferred_revenue_end == D("10000.00")  # beta's prepayment
    assert april.deposits_held_end == D("5000.00")
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    m.billing.run(APRIL)
    acme = m.ledger.get_invoice("INV-2024-000001")
    paid = m.ledger.record_payment("acme", "50000", date(2024, 5, 10))
    assert paid.applied == D("50000.00")
    aging = {r.customer: r for r in m.ledger.aging(date(2024, 7, 15))}
    assert aging["acme"].buckets["61-90"] == acme.gross - D("50000.00")
    assert aging["beta"].buckets["61-90"] == D("51056.00")
    assert m.ledger.aging(date(2024, 5, 15))[0].buckets["0-30"] == acme.gross - D("50000.00")
    may = m.ledger.reconcile(MAY)
    assert may.billed_net == acme.net + D("57600.00")
    assert may.collected == D("50000.00")
    assert may.receivables_end == may.billed_gross - D("60000.00")
    assert may.deferred_revenue_end == 0  # the prepayment was used by beta's invoice
    assert m.ledger.list_invoices(unpaid=True).total == 2


def test_undelivered_and_down_servers_earn_nothing(world) -> None:  # type: ignore[no-untyped-def]
    m = world.svc.money
    m.tenancy.create_customer("acme", "Acme AI")
    world.svc.fleet.add_server(NewServer("LATE1", "HGX-H800-8"), actor="ops")
    m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "30000", date(2024, 4, 1), 6, serials=("LATE1",)), actor="s"
    )
    assert m.billing.revenue(APRIL) == {}  # never delivered in April: no revenue
    world.clock.set(datetime(2024, 5, 11, 8, tzinfo=UTC))
    for state in (S.DELIVERED, S.BURN_IN, S.AVAILABLE):
        world.svc.fleet.transition(
            "LATE1", state, "ops", "x", cabinet="BJ1/A01" if state is S.BURN_IN else None
        )
    m.leasing.deliver("LATE1", "ops")
    # in service from 11 May 08:00: full days 12..31 = 20 of 31 → 30000 × 20 / 31
    assert m.billing.revenue(MAY)["rent"] == D("19354.84")
    world.clock.set(datetime(2024, 6, 1, tzinfo=UTC))
    run = m.billing.run(APRIL)
    assert run.empty == ["acme"] and run.created == []


@pytest.mark.postgres
def test_concurrent_runs_share_one_gap_free_series(pg_migrated_url: str) -> None:
    """Two invoice runs of the same month at once: every customer invoiced once, numbers 1..N."""
    import threading

    from suanli.core.clock import SimClock
    from suanli.services.container import build_services
    from suanli.store.base import Base
    from suanli.store.db import make_engine

    engine = make_engine(pg_migrated_url, pool_size=6)
    try:
        svc = build_services(engine, SimClock(datetime(2024, 4, 1, tzinfo=UTC)))
        svc.money.metering.set_price("HGX-H800-8", "standard", "15", date(2024, 1, 1))
        records = []
        for n in range(12):
            svc.money.tenancy.create_customer(f"k{n:02d}", f"K{n}")
            records.append(dict(event_id=f"k{n}", customer=f"k{n:02d}", sku="HGX-H800-8", priority_class="standard",
                                job_id="j", started_at=at(3), ended_at=at(3, 1), gpu_seconds="3600"))  # fmt: skip
        assert svc.money.metering.ingest(records).accepted == 12
        svc.clock.set(datetime(2024, 5, 1, tzinfo=UTC))  # type: ignore[attr-defined]
        barrier = threading.Barrier(2)
        results = []

        def run() -> None:
            barrier.wait()
            results.append(svc.money.billing.run(APRIL))

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        created = sorted(n for r in results for n in r.created)
        assert created == [f"INV-2024-{i:06d}" for i in range(1, 13)]
        assert svc.money.ledger.list_invoices(limit=100).total == 12
    finally:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        engine.dispose()


def test_usage_with_arbitrary_cents_is_invoiced_on_both_engines(world) -> None:  # type: ignore[no-untyped-def]
    """Regression: SQLite stores Numeric as REAL, so an exact ``gross = net + tax`` CHECK failed
    for some cent amounts and the run reported the customer as skipped. Every odd usage amount
    below must give an invoice whose totals add up exactly."""
    m = world.svc.money
    world.servers(1)
    m.metering.set_price("HGX-H800-8", "standard", "14.00", date(2024, 1, 1))
    codes = [f"c{i:02d}" for i in range(12)]
    rows = []
    for i, code in enumerate(codes):
        m.tenancy.create_customer(code, f"Customer {i}")
        seconds = 3600 * 7 + 1234 * (i + 1) + i * 37  # cents that do not add up in binary floats
        rows.append(dict(event_id=f"u{i}", customer=code, sku="HGX-H800-8",
                         priority_class="standard", job_id=f"j{i}", started_at=at(3 + i),
                         ended_at=at(3 + i, 2), gpu_seconds=str(seconds)))  # fmt: skip
    assert m.metering.ingest(rows).accepted == len(codes)
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    run = m.billing.run(APRIL)
    assert run.skipped == [] and len(run.created) == len(codes)
    for number in run.created:
        inv = m.ledger.get_invoice(number)
        assert inv.gross == inv.net + inv.tax
        assert all(ln.gross == ln.net + ln.tax for ln in inv.lines)
