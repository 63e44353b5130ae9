"""Regression tests for the money-path defects of issue 12 that need no concurrency (both
engines). Each test names its defect; each failed on main before the fix."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from suanli.core.clock import SystemClock
from suanli.core.errors import ConflictError, ValidationError
from suanli.core.fleet import ServerState as S
from suanli.services.billing.idempotency import request_hash
from suanli.services.billing.leasing import LeaseSpec
from suanli.services.container import build_services
from suanli.services.fleet.servers import NewServer


def test_defect6_outage_under_a_real_clock_is_one_downtime_record(engine) -> None:  # type: ignore[no-untyped-def]
    """``server_failed`` read the clock twice (transition log vs. SLA record); the invoice run's
    sync from the log then added a second record for the same outage. A real, moving clock."""
    svc = build_services(engine, SystemClock(), "CNY")
    svc.fleet.add_site("BJ1", "Beijing 1")
    svc.fleet.add_cabinet("BJ1", "A01", "100000")
    svc.fleet.add_server(NewServer("RT1", "HGX-H800-8", state=S.DELIVERED), actor="ops")
    svc.fleet.transition("RT1", S.BURN_IN, "ops", "rack", cabinet="BJ1/A01")
    svc.fleet.transition("RT1", S.AVAILABLE, "ops", "ok")
    svc.money.tenancy.create_customer("acme", "Acme AI")
    today = datetime.now(UTC).date()
    svc.money.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "1000", today - timedelta(days=3), 1, count=1),
        actor="sales",
    )
    leasing = svc.money.leasing
    down = leasing.server_failed("RT1", "noc", "PSU")
    up = leasing.server_restored("RT1", "noc")
    assert leasing.sync_downtime() == 0  # the log and the record agree to the microsecond
    events = leasing.list_sla_events().items
    assert len(events) == 1
    assert (events[0].down_from, events[0].down_until) == (down.down_from, up.down_until)


def test_defect9_count_lease_skips_an_available_server_booked_later(world) -> None:  # type: ignore[no-untyped-def]
    """An available server already booked for a later lease is skipped by the count picker,
    not reported as ``lease.double_booked`` while another server is free."""
    fleet, m = world.svc.fleet, world.svc.money
    fleet.add_server(NewServer("EARLY", "HGX-H800-8", state=S.DELIVERED), actor="ops")
    fleet.transition("EARLY", S.BURN_IN, "ops", "rack", cabinet="BJ1/A01")
    m.tenancy.create_customer("acme", "Acme AI")
    m.tenancy.create_customer("beta", "Beta University")
    later = m.leasing.create_lease(
        LeaseSpec("beta", "HGX-H800-8", "1000", date(2024, 7, 1), 6, serials=("EARLY",)),
        actor="sales",
    )
    fleet.transition("EARLY", S.AVAILABLE, "ops", "burn-in passed")  # booked from July
    (free,) = world.servers(1, prefix="FREE")
    got = m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "1000", date(2024, 4, 1), 12, count=1), actor="sales"
    )
    assert got.servers == [free]
    assert m.leasing.get_contract(later.number).servers == ["EARLY"]


def test_defect8_idempotency_key_recovers_after_a_crash(world) -> None:  # type: ignore[no-untyped-def]
    """A process killed holding a claim never releases it: the claim is a lease, and once it has
    expired exactly one retry takes the key over and runs; the answer is then replayed."""
    keys = world.svc.money.idempotency
    lease = getattr(keys, "lease", timedelta(minutes=15))  # main had no lease attribute
    scope, digest = "1:POST:/api/v1/invoice-runs", request_hash({"period": "2024-04"})
    assert keys.claim(scope, "k1", digest) is None  # the request that is then killed -9
    with pytest.raises(ConflictError) as held:
        keys.claim(scope, "k1", digest)
    assert held.value.code == "idempotency.in_progress"
    world.clock.advance(lease - timedelta(seconds=1))
    with pytest.raises(ConflictError):
        keys.claim(scope, "k1", digest)  # the lease still runs: maybe it is just slow
    world.clock.advance(timedelta(seconds=1))
    assert keys.claim(scope, "k1", digest) is None  # recovered: this retry runs the operation
    with pytest.raises(ConflictError):
        keys.claim(scope, "k1", digest)  # ... under a fresh lease of its own
    keys.complete(scope, "k1", 201, {"created": ["INV-2024-000001"]})
    world.clock.advance(lease * 10)
    stored = keys.claim(scope, "k1", digest)
    assert stored is not None and stored.body == {"created": ["INV-2024-000001"]}


def test_defect10_money_is_exact_on_both_engines(world, engine) -> None:  # type: ignore[no-untyped-def]
    """99999999999999.99 read back as ...98 on SQLite (a float); now integer cents there."""
    from decimal import Decimal as D

    from sqlalchemy import func, select

    from suanli.store.db import make_session_factory, transaction
    from suanli.store.models import PaymentRow

    ledger = world.svc.money.ledger
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    big, odd = D("99999999999999.99"), D("0.07")
    ledger.record_payment("acme", big, date(2024, 5, 1), kind="deposit")
    ledger.record_payment("acme", odd, date(2024, 5, 2), kind="deposit")
    assert [p.amount for p in ledger.list_payments().items] == [big, odd]
    with transaction(make_session_factory(engine)) as s:
        assert s.scalar(select(func.sum(PaymentRow.amount))) == big + odd
        assert s.scalar(select(PaymentRow.id).where(PaymentRow.amount == big)) is not None
    with pytest.raises(ValidationError) as refused:
        ledger.record_payment("acme", "10000000000000000.00", date(2024, 5, 3))
    assert refused.value.code == "money.out_of_range"


def test_migration_0005_rewrites_stored_amounts_and_back(blank_db_url: str) -> None:
    """Amounts written before 0005 (floats on SQLite) read back exact after the upgrade, and the
    downgrade restores what the old code reads; PostgreSQL values pass through unchanged."""
    from decimal import Decimal as D

    from sqlalchemy import text

    from suanli.store.db import downgrade, make_engine, upgrade

    engine = make_engine(blank_db_url)
    try:
        upgrade(engine, "0003_cluster_jobs")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO customers (id, code, name, payment_terms_days, created_at) "
                    "VALUES (1, 'acme', 'Acme', 30, '2024-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO payments (customer_id, kind, amount, received_on, created_at) "
                    "VALUES (1, 'payment', 1234.56, '2024-05-01', '2024-05-01 00:00:00')"
                )
            )
        upgrade(engine, "head")
        from sqlalchemy import select

        from suanli.store.db import make_session_factory, transaction
        from suanli.store.models import PaymentRow

        with transaction(make_session_factory(engine)) as s:
            assert s.scalar(select(PaymentRow.amount)) == D("1234.56")
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                stored = conn.execute(text("SELECT typeof(amount), amount FROM payments")).one()
            assert tuple(stored) == ("integer", 123456)
        downgrade(engine, "0003_cluster_jobs")
        with engine.connect() as conn:
            assert D(str(conn.execute(text("SELECT amount FROM payments")).scalar())) == D(
                "1234.56"
            )
    finally:
        engine.dispose()


def test_defect4_open_or_future_periods_are_refused(world) -> None:  # type: ignore[no-untyped-def]
    """``POST /invoice-runs {"period": "2027-06"}`` issued rent not yet delivered: invoicing is
    in arrears, so a period is invoiced only once it has closed on the issue date."""
    from suanli.core.billing import parse_period

    world.servers(1)
    m = world.svc.money
    m.tenancy.create_customer("acme", "Acme AI")
    m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100", date(2024, 4, 1), 12, count=1), actor="sales"
    )
    world.clock.set(datetime(2024, 4, 20, tzinfo=UTC))
    for period, issue in (("2024-04", None), ("2027-06", None), ("2024-04", date(2024, 4, 30))):
        with pytest.raises(ValidationError) as refused:
            m.billing.run(parse_period(period), issue_date=issue)
        assert refused.value.code == "invoice.period_open"
    assert m.ledger.list_invoices().total == 0


def test_defect5_issue_date_and_payment_date_are_effective_dates(world) -> None:  # type: ignore[no-untyped-def]
    """Invoices for 2024-04 were dated the day the run happened (2026-12-05); a payment dated
    before an invoice existed was applied before the invoice's date. Aging as of a day sees only
    what had happened by then."""
    from decimal import Decimal as D

    from suanli.core.billing import parse_period

    world.servers(1)
    m = world.svc.money
    m.tenancy.create_customer("acme", "Acme AI")
    m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "100", date(2024, 4, 1), 12, count=1), actor="sales"
    )
    world.clock.set(datetime(2026, 12, 5, 9, tzinfo=UTC))  # the run happens much later
    m.ledger.record_payment("acme", "50", date(2024, 4, 20), kind="prepayment")
    (number,) = m.billing.run(parse_period("2024-04"), issue_date=date(2024, 5, 2)).created
    invoice = m.ledger.get_invoice(number)
    assert (invoice.issue_date, invoice.due_date) == (date(2024, 5, 2), date(2024, 6, 1))
    assert invoice.outstanding == invoice.gross - D("50")
    m.ledger.record_payment("acme", "10", date(2024, 5, 10))
    aged = {r.customer: r.total for r in m.ledger.aging(date(2024, 5, 5))}
    assert aged == {"acme": invoice.gross - D("50")}  # the 10.00 of May 10 not yet received
    assert {r.customer: r.total for r in m.ledger.aging(date(2024, 5, 31))} == {
        "acme": invoice.gross - D("60")
    }


def test_defect3_late_signed_lease_is_billed_by_a_supplementary_invoice(world) -> None:  # type: ignore[no-untyped-def]
    """A lease signed in May for service from 16 April, after April was invoiced: recognised
    190,000 but billed 140,000, for ever. A supplementary run bills exactly the unbilled 50,000
    (and the late usage), a second one nothing; May's run does not bill April again."""
    from decimal import Decimal as D

    from suanli.core.billing import parse_period

    april, may = parse_period("2024-04"), parse_period("2024-05")
    world.servers(3)
    m = world.svc.money
    m.tenancy.create_customer("acme", "Acme AI")
    m.metering.set_price("HGX-H800-8", "standard", "15", date(2024, 1, 1))
    m.leasing.create_lease(
        LeaseSpec("acme", "HGX-H800-8", "70000", date(2024, 4, 1), 12, count=2), actor="sales"
    )
    world.clock.set(datetime(2024, 5, 1, 2, tzinfo=UTC))
    (first,) = m.billing.run(april).created
    world.clock.set(datetime(2024, 5, 6, 9, tzinfo=UTC))
    m.leasing.create_lease(  # signed late: 15 of April's 30 days at 100,000 = 50,000
        LeaseSpec("acme", "HGX-H800-8", "100000", date(2024, 4, 16), 12, count=1),
        actor="sales",
    )
    late = dict(customer="acme", sku="HGX-H800-8", priority_class="standard", job_id="j9",
                started_at="2024-04-29T00:00:00+00:00", ended_at="2024-04-29T01:00:00+00:00")  # fmt: skip
    assert m.metering.ingest([dict(late, event_id="late1", gpu_seconds="3600")]).accepted == 1

    def billed_rent() -> D:
        return sum(
            (ln.net for inv in m.ledger.list_invoices(period="2024-04").items
             for ln in m.ledger.get_invoice(inv.number).lines if ln.kind == "rent"),
            D(0),
        )  # fmt: skip

    assert m.billing.revenue(april)["rent"] == D("190000.00")
    assert billed_rent() == D("140000.00")
    assert m.billing.run(april).created == []  # a plain rerun stays crash recovery only
    run = m.billing.run(april, supplementary=True, issue_date=date(2024, 5, 6))
    (number,) = run.created
    supplement = m.ledger.get_invoice(number)
    assert [(ln.kind, ln.net, ln.description[:8]) for ln in supplement.lines] == [
        ("rent", D("50000.00"), "L-000002"),
        ("usage", D("15.00"), "HGX-H800"),
    ]
    assert supplement.period == "2024-04" and supplement.issue_date == date(2024, 5, 6)
    assert supplement.reason == f"supplementary to {first} for 2024-04"
    assert billed_rent() == m.billing.revenue(april)["rent"] == D("190000.00")
    again = m.billing.run(april, supplementary=True, issue_date=date(2024, 5, 7))
    assert (again.created, again.empty) == ([], ["acme"])  # nothing is billed twice
    world.clock.set(datetime(2024, 6, 1, 2, tzinfo=UTC))
    (june,) = m.billing.run(may).created
    rents = [ln.net for ln in m.ledger.get_invoice(june).lines if ln.kind == "rent"]
    assert sorted(rents) == [D("100000.00"), D("140000.00")]  # May only
