"""Leases and reserved capacity on SQLite and PostgreSQL: allocation, no double booking (the
database refuses overlaps even past the service), lifecycle link, termination and renewal."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from suanli.core.clock import SimClock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.fleet import ServerState as S
from suanli.services.billing.leasing import LeaseSpec, ReservedSpec
from suanli.services.container import build_services
from suanli.services.fleet.servers import NewServer
from suanli.store.base import Base
from suanli.store.db import make_engine, make_session_factory, transaction
from suanli.store.models import LeaseAllocationRow, ServerRow


def lease(
    customer: str = "acme", count: int | None = 2, serials: tuple[str, ...] = (), **kw
) -> LeaseSpec:  # type: ignore[no-untyped-def]
    base = dict(
        customer=customer,
        sku="HGX-H800-8",
        monthly_rent="70000",
        start=date(2024, 4, 1),
        term_months=12,
    )
    base.update(kw)
    return LeaseSpec(count=count, serials=serials, **base)  # type: ignore[arg-type]


def test_lease_by_count_moves_servers_to_leased(world) -> None:  # type: ignore[no-untyped-def]
    world.servers(3)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    c = world.svc.money.leasing.create_lease(lease(count=2), actor="sales")
    assert c.number == "L-000001" and c.server_count == 2 and c.end_date == date(2025, 4, 1)
    assert {world.svc.fleet.get_server(s).state for s in c.servers} == {S.LEASED}
    assert world.svc.fleet.transitions(c.servers[0]).items[-1].reason == "lease L-000001"
    with pytest.raises(ConflictError) as info:
        world.svc.money.leasing.create_lease(lease(count=2), actor="sales")
    assert info.value.code == "lease.capacity_unavailable" and info.value.fields == {
        "count": "at most 1"
    }
    # the failed attempt left nothing behind: the last server is still free
    assert world.svc.money.leasing.create_lease(lease(count=1), actor="sales").number == "L-000002"


def test_named_serials_and_bad_input(world) -> None:  # type: ignore[no-untyped-def]
    world.servers(2)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    leasing = world.svc.money.leasing
    c = leasing.create_lease(lease(count=None, serials=("SN001",)), actor="sales")
    assert c.servers == ["SN001"]
    with pytest.raises(ConflictError) as info:
        leasing.create_lease(lease(count=None, serials=("SN001",)), actor="sales")
    assert info.value.code == "lease.capacity_unavailable"
    with pytest.raises(NotFoundError):
        leasing.create_lease(lease(count=None, serials=("NOPE",)), actor="sales")
    with pytest.raises(NotFoundError) as info:
        leasing.create_lease(lease(customer="ghost"), actor="sales")
    assert info.value.code == "customer.not_found"
    for bad in (
        dict(monthly_rent="-1"),
        dict(term_months=0),
        dict(sla_uptime="1.5"),
        dict(sku="NOPE"),
    ):
        with pytest.raises(ValidationError):
            leasing.create_lease(lease(**bad), actor="sales")
    with pytest.raises(ValidationError) as info:
        leasing.create_lease(lease(count=None), actor="sales")
    assert info.value.code == "lease.servers_required"


def test_database_refuses_overlapping_allocations(world, engine) -> None:  # type: ignore[no-untyped-def]
    """Not only the service: a raw insert of an overlapping allocation fails in the database."""
    world.servers(1)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    c = world.svc.money.leasing.create_lease(lease(count=1), actor="sales")
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        alloc = s.scalars(select(LeaseAllocationRow)).one()
        row = dict(
            contract_id=alloc.contract_id, customer_id=alloc.customer_id, server_id=alloc.server_id
        )
    start = datetime(2024, 6, 1, tzinfo=UTC)
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        s.execute(
            insert(LeaseAllocationRow),
            [dict(row, starts_at=start, ends_at=start + timedelta(days=1))],
        )
    # adjacent periods do not overlap ([start, end) semantics)
    after = datetime(2025, 4, 1, tzinfo=UTC)
    with transaction(sessions) as s:
        s.execute(
            insert(LeaseAllocationRow),
            [dict(row, starts_at=after, ends_at=after + timedelta(days=30))],
        )
    # ... so renewing into that booked month is refused as a double booking
    with pytest.raises(ConflictError) as info:
        world.svc.money.leasing.renew(c.number, 1)
    assert info.value.code == "lease.double_booked"


def test_failure_of_a_leased_server_opens_sla_downtime(world) -> None:  # type: ignore[no-untyped-def]
    world.servers(1)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    leasing = world.svc.money.leasing
    leasing.create_lease(lease(count=1), actor="sales")
    world.clock.set(datetime(2024, 4, 10, tzinfo=UTC))
    event = leasing.server_failed("SN000", "noc", "GPU fell off the bus")
    assert world.svc.fleet.get_server("SN000").state is S.FAILED and event.down_until is None
    world.clock.advance(timedelta(hours=30))
    closed = leasing.server_restored("SN000", "noc")
    assert closed.down_until - closed.down_from == timedelta(hours=30)
    assert world.svc.fleet.get_server("SN000").state is S.LEASED
    with pytest.raises(ConflictError):
        leasing.server_restored("SN000", "noc")
    assert leasing.list_sla_events().total == 1


def test_lease_before_delivery_then_deliver(world) -> None:  # type: ignore[no-untyped-def]
    world.svc.fleet.add_server(NewServer("LATE1", "HGX-H800-8"), actor="ops")  # ordered
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    leasing = world.svc.money.leasing
    c = leasing.create_lease(lease(count=None, serials=("LATE1",)), actor="sales")
    assert world.svc.fleet.get_server("LATE1").state is S.ORDERED
    world.clock.set(datetime(2024, 4, 20, 12, tzinfo=UTC))
    with pytest.raises(Exception):  # noqa: B017  not available yet
        leasing.deliver("LATE1", "ops")
    world.svc.fleet.transition("LATE1", S.DELIVERED, "ops", "arrived")
    world.svc.fleet.transition("LATE1", S.BURN_IN, "ops", "rack", cabinet="BJ1/A01")
    world.svc.fleet.transition("LATE1", S.AVAILABLE, "ops", "ok")
    assert leasing.deliver("LATE1", "ops").number == c.number
    assert world.svc.fleet.get_server("LATE1").state is S.LEASED


def test_terminate_with_notice_and_penalty_then_release(world) -> None:  # type: ignore[no-untyped-def]
    world.servers(2)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    leasing = world.svc.money.leasing
    c = leasing.create_lease(
        lease(count=2, notice_days=30, early_termination_months="2"), actor="sales"
    )
    world.clock.set(datetime(2024, 5, 1, tzinfo=UTC))
    with pytest.raises(ConflictError) as info:
        leasing.terminate(c.number, date(2024, 5, 15), "sales", "budget cut")
    assert info.value.code == "contract.notice_too_short"
    t = leasing.terminate(c.number, date(2024, 6, 1), "sales", "budget cut")
    assert t.status == "terminated" and t.termination_penalty == 2 * 2 * 70000
    assert world.svc.fleet.get_server("SN000").state is S.LEASED  # until the effective date
    world.clock.set(datetime(2024, 6, 1, tzinfo=UTC))
    assert leasing.release_due("ops") == 2
    assert world.svc.fleet.get_server("SN000").state is S.AVAILABLE
    # the servers are free again from June on
    assert (
        leasing.create_lease(lease(count=2, start=date(2024, 6, 1)), actor="sales").server_count
        == 2
    )


def test_reserved_capacity_contract(world) -> None:  # type: ignore[no-untyped-def]
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    r = world.svc.money.leasing.create_reserved(
        ReservedSpec(
            "acme",
            "HGX-H800-8",
            committed_gpus=64,
            gpu_hour_rate="12.5",
            start=date(2024, 4, 1),
            term_months=6,
        ),
        actor="sales",
    )
    assert r.number == "R-000001" and r.kind == "reserved" and r.min_commitment == Decimal("0.8")
    page = world.svc.money.leasing.list_contracts(kind="reserved")
    assert [c.number for c in page.items] == ["R-000001"]


@pytest.mark.postgres
def test_fifty_clients_race_for_the_last_ten_servers(pg_migrated_url: str) -> None:
    engine = make_engine(pg_migrated_url, pool_size=50, max_overflow=10)
    try:
        svc = build_services(engine, SimClock(datetime(2024, 4, 1, tzinfo=UTC)))
        svc.fleet.add_site("RACE", "race")
        svc.fleet.add_cabinet("RACE", "C1", "100000")
        for n in range(10):
            svc.fleet.add_server(NewServer(f"R{n}", "HGX-H800-8", state=S.DELIVERED), actor="ops")
            svc.fleet.transition(f"R{n}", S.BURN_IN, "ops", "rack", cabinet="RACE/C1")
            svc.fleet.transition(f"R{n}", S.AVAILABLE, "ops", "ok")
        for n in range(50):
            svc.money.tenancy.create_customer(f"c{n:02d}", f"Client {n}")
        barrier = threading.Barrier(50)
        outcomes: list[str] = []

        def race(n: int) -> None:
            barrier.wait()
            try:
                svc.money.leasing.create_lease(lease(customer=f"c{n:02d}", count=1), actor="race")
                outcomes.append("ok")
            except ConflictError as exc:
                outcomes.append(exc.code)
            except Exception as exc:
                outcomes.append(repr(exc))

        threads = [threading.Thread(target=race, args=(n,)) for n in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("ok") == 10, outcomes
        assert outcomes.count("lease.capacity_unavailable") == 40
        with transaction(make_session_factory(engine)) as s:
            servers = s.scalars(select(LeaseAllocationRow.server_id)).all()
            states = set(s.scalars(select(ServerRow.state)))
        assert len(servers) == 10 and len(set(servers)) == 10  # no server twice
        assert states == {"leased"}
    finally:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        engine.dispose()


def test_failure_entered_through_the_fleet_still_creates_downtime(world) -> None:  # type: ignore[no-untyped-def]
    """The fleet's transition log is the source of truth; leasing derives the SLA record."""
    world.servers(1)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    leasing = world.svc.money.leasing
    leasing.create_lease(lease(count=1), actor="sales")
    world.clock.set(datetime(2024, 4, 10, tzinfo=UTC))
    world.svc.fleet.transition("SN000", S.FAILED, "noc", "fans")
    assert leasing.sync_downtime() == 1 and leasing.sync_downtime() == 0
    event = leasing.list_sla_events().items[0]
    assert (event.down_from, event.down_until, event.reason) == (
        datetime(2024, 4, 10, tzinfo=UTC),
        None,
        "fans",
    )
    world.clock.set(datetime(2024, 4, 12, tzinfo=UTC))
    for target in (S.REPAIRED, S.AVAILABLE, S.LEASED):
        world.svc.fleet.transition("SN000", target, "noc", "fixed")
    assert leasing.sync_downtime() == 1
    assert leasing.list_sla_events().items[0].down_until == datetime(2024, 4, 12, tzinfo=UTC)


def test_auto_renewal_at_the_end_of_the_term(world) -> None:  # type: ignore[no-untyped-def]
    world.servers(2)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    leasing = world.svc.money.leasing
    auto = leasing.create_lease(lease(count=1, term_months=3, auto_renew=True), actor="sales")
    plain = leasing.create_lease(lease(count=1, term_months=3), actor="sales")
    world.clock.set(datetime(2024, 7, 1, tzinfo=UTC))
    assert leasing.release_due("ops") == 1  # only the plain lease ends
    renewed = leasing.get_contract(auto.number)
    assert (renewed.status, renewed.end_date, renewed.term_months) == (
        "active",
        date(2024, 10, 1),
        6,
    )
    assert leasing.get_contract(plain.number).status == "ended"
    assert world.svc.fleet.get_server(renewed.servers[0]).state is S.LEASED


def test_release_as_of_an_effective_date(world) -> None:  # type: ignore[no-untyped-def]
    """``release_due(at=...)`` releases and renews only what was due by then, each server at its
    lease's end; a release cannot be dated in the future."""
    world.servers(2)
    world.svc.money.tenancy.create_customer("acme", "Acme AI")
    leasing = world.svc.money.leasing
    auto = leasing.create_lease(lease(count=1, term_months=3, auto_renew=True), actor="sales")
    plain = leasing.create_lease(lease(count=1, term_months=4), actor="sales")
    world.clock.set(datetime(2024, 12, 1, tzinfo=UTC))
    assert leasing.release_due("ops", date(2024, 6, 30)) == 0
    assert leasing.get_contract(plain.number).status == "active"
    assert leasing.get_contract(auto.number).end_date == date(2024, 7, 1)  # not yet due
    assert leasing.release_due("ops", "2024-08-01") == 1
    assert leasing.get_contract(plain.number).status == "ended"
    assert leasing.get_contract(auto.number).end_date == date(2024, 10, 1)  # renewed once
    last = world.svc.fleet.transitions(plain.servers[0]).items[-1]
    assert (last.to_state, last.at) == (S.AVAILABLE, datetime(2024, 8, 1, tzinfo=UTC))
    with pytest.raises(ValidationError) as info:
        leasing.release_due("ops", date(2024, 12, 2))
    assert info.value.code == "input.date_out_of_range" and "at" in info.value.fields


def test_sqlite_serialised_path_under_threads(tmp_path, sqlite_template) -> None:  # type: ignore[no-untyped-def]
    """SQLite: 10 threads race for the last 3 servers; BEGIN IMMEDIATE serialises them."""
    import shutil

    path = tmp_path / "race.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        svc = build_services(engine, SimClock(datetime(2024, 4, 1, tzinfo=UTC)))
        svc.fleet.add_site("RACE", "race")
        svc.fleet.add_cabinet("RACE", "C1", "100000")
        for n in range(3):
            svc.fleet.add_server(NewServer(f"R{n}", "HGX-H800-8", state=S.DELIVERED), actor="ops")
            svc.fleet.transition(f"R{n}", S.BURN_IN, "ops", "rack", cabinet="RACE/C1")
            svc.fleet.transition(f"R{n}", S.AVAILABLE, "ops", "ok")
        svc.money.tenancy.create_customer("c", "C")
        barrier = threading.Barrier(10)
        outcomes: list[str] = []

        def race() -> None:
            barrier.wait()
            try:
                svc.money.leasing.create_lease(lease(customer="c", count=1), actor="race")
                outcomes.append("ok")
            except ConflictError as exc:
                outcomes.append(exc.code)
            except Exception as exc:
                outcomes.append(repr(exc))

        threads = [threading.Thread(target=race) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["lease.capacity_unavailable"] * 7 + ["ok"] * 3, outcomes
        with transaction(make_session_factory(engine)) as s:
            servers = s.scalars(select(LeaseAllocationRow.server_id)).all()
        assert sorted(servers) == [1, 2, 3]
    finally:
        engine.dispose()
