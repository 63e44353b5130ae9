"""Fleet service on SQLite and PostgreSQL: sites, cabinets, servers, transitions, power budget."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from suanli.core.clock import SimClock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.fleet import ServerState
from suanli.services.fleet.procurement import ProcurementService
from suanli.services.fleet.servers import FleetService, NewServer, ServerFilter
from suanli.store.db import SessionFactory, make_engine, make_session_factory
from suanli.store.models import ServerRow, ServerTransitionRow

S = ServerState


@pytest.fixture
def fleet(sessions: SessionFactory, clock: SimClock) -> FleetService:
    svc = FleetService(sessions, clock)
    svc.add_site("BJ1", "Beijing 1", city="Beijing")
    svc.add_cabinet("BJ1", "A01", "21")  # two 10.2 kW H800 servers fit, a third does not
    return svc


def _count(sessions: SessionFactory, model: type) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_full_lifecycle_records_who_when_why(fleet: FleetService, clock: SimClock) -> None:
    fleet.add_server(NewServer("SN1", "HGX-H800-8", purchase_price="2100000"), actor="alice")
    path = [
        (S.DELIVERED, None), (S.BURN_IN, "BJ1/A01"), (S.AVAILABLE, None), (S.LEASED, None),
        (S.AVAILABLE, None), (S.CLOUD_POOL, None), (S.MAINTENANCE, None), (S.FAILED, None),
        (S.REPAIRED, None), (S.AVAILABLE, None), (S.RETIRED, None),
    ]  # fmt: skip
    for target, cabinet in path:
        clock.advance(timedelta(hours=1))
        t = fleet.transition("SN1", target, actor="bob", reason=f"to {target}", cabinet=cabinet)
        assert t.to_state is target and t.at == clock.now()
    log = fleet.transitions("SN1", limit=100)
    assert [t.to_state for t in log.items] == [S.ORDERED] + [t for t, _ in path]
    assert log.items[0].from_state is None and log.items[0].actor == "alice"
    assert all(t.actor == "bob" for t in log.items[1:])
    assert log.items[3].cabinet_code == "BJ1/A01"
    server = fleet.get_server("SN1")
    assert server.state is S.RETIRED and server.cabinet_code is None  # retiring frees the slot
    assert server.purchase_price == Decimal("2100000.00")


def test_invalid_transition_changes_nothing(fleet: FleetService, sessions: SessionFactory) -> None:
    fleet.add_server(NewServer("SN1", "HGX-H800-8"), actor="a")
    before = _count(sessions, ServerTransitionRow)
    with pytest.raises(ConflictError) as info:
        fleet.transition("SN1", S.LEASED, actor="a", reason="skip ahead")
    assert info.value.code == "server.invalid_transition"
    assert fleet.get_server("SN1").state is S.ORDERED
    assert _count(sessions, ServerTransitionRow) == before


def test_racking_enforces_power_budget(fleet: FleetService, sessions: SessionFactory) -> None:
    for n in range(3):
        fleet.add_server(NewServer(f"SN{n}", "HGX-H800-8", state=S.DELIVERED), actor="a")
    fleet.transition("SN0", S.BURN_IN, "a", "rack", cabinet="BJ1/A01")
    fleet.transition("SN1", S.BURN_IN, "a", "rack", cabinet="BJ1/A01")
    with pytest.raises(ConflictError) as info:
        fleet.transition("SN2", S.BURN_IN, "a", "rack", cabinet="BJ1/A01")
    assert info.value.code == "cabinet.power_budget_exceeded"
    assert fleet.get_server("SN2").state is S.DELIVERED
    cab = fleet.get_cabinet("BJ1/A01")
    assert (cab.used_kw, cab.servers) == (Decimal("20.4"), 2)
    # retiring a racked server frees its power; then the third fits
    fleet.transition("SN0", S.AVAILABLE, "a", "passed burn-in")
    fleet.transition("SN0", S.RETIRED, "a", "end of life")
    fleet.transition("SN2", S.BURN_IN, "a", "rack", cabinet="BJ1/A01")
    assert fleet.get_cabinet("BJ1/A01").servers == 2


def test_cabinet_rules(fleet: FleetService) -> None:
    fleet.add_server(NewServer("SN1", "HGX-H800-8", state=S.DELIVERED), actor="a")
    with pytest.raises(ValidationError, match="cabinet") as info:
        fleet.transition("SN1", S.BURN_IN, "a", "rack")
    assert info.value.code == "server.cabinet_required"
    with pytest.raises(NotFoundError):
        fleet.transition("SN1", S.BURN_IN, "a", "rack", cabinet="BJ1/Z99")
    with pytest.raises(ValidationError) as info:
        fleet.transition("SN1", S.BURN_IN, "a", "rack", cabinet="A01")
    assert info.value.code == "cabinet.invalid_ref"
    with pytest.raises(ValidationError) as info:
        fleet.transition("SN1", S.RETIRED, "a", "scrap", cabinet="BJ1/A01")
    assert info.value.code == "server.cabinet_not_expected"
    with pytest.raises(ConflictError):
        fleet.add_cabinet("BJ1", "A01", 10)
    with pytest.raises(ValidationError):
        fleet.add_cabinet("BJ1", "A02", 0)
    with pytest.raises(NotFoundError):
        fleet.add_cabinet("SH1", "A01", 10)


@pytest.mark.parametrize(
    ("spec", "code"),
    [
        (NewServer("", "HGX-H800-8"), "input.required"),
        (NewServer("X", "HGX-NOPE"), "catalog.unknown_sku"),
        (NewServer("X", "HGX-H800-8", purchase_price="-1"), "money.negative"),
        (NewServer("X", "HGX-H800-8", purchase_price="abc"), "money.invalid"),
        (NewServer("X", "HGX-H800-8", state=S.AVAILABLE), "server.invalid_initial_state"),
        (NewServer("X", "HGX-H800-8", supplier="Nobody"), "supplier.not_found"),
        (NewServer("X", "HGX-H800-8", currency="yuan"), "money.invalid_currency"),
    ],
)
def test_bad_server_input_writes_nothing(
    fleet: FleetService, sessions: SessionFactory, spec: NewServer, code: str
) -> None:
    with pytest.raises((ValidationError, NotFoundError)) as info:
        fleet.add_server(spec, actor="a")
    assert info.value.code == code
    assert _count(sessions, ServerRow) == 0


def test_duplicate_serial_and_site(fleet: FleetService) -> None:
    fleet.add_server(NewServer("SN1", "HGX-H800-8"), actor="a")
    with pytest.raises(ConflictError, match="exists"):
        fleet.add_server(NewServer("SN1", "HGX-H20-8"), actor="a")
    with pytest.raises(ConflictError):
        fleet.add_site("BJ1", "again")
    with pytest.raises(ValidationError):
        fleet.transition("SN1", S.DELIVERED, actor=" ", reason="x")
    with pytest.raises(NotFoundError):
        fleet.get_server("nope")


def test_list_filters_and_pagination(fleet: FleetService, sessions: SessionFactory) -> None:
    ProcurementService(sessions, fleet.clock).add_supplier("H3C")
    for n in range(7):
        sku = "HGX-H800-8" if n % 2 else "HGX-H20-8"
        spec = NewServer(f"SN{n}", sku, supplier="H3C" if n < 3 else None,
                         network_group="ib-1" if n < 5 else "ib-2", state=S.DELIVERED)  # fmt: skip
        fleet.add_server(spec, actor="a")
    fleet.transition("SN1", S.BURN_IN, "a", "rack", cabinet="BJ1/A01")
    page = fleet.list_servers(limit=3, offset=0)
    assert page.total == 7 and [s.serial for s in page.items] == ["SN0", "SN1", "SN2"]
    assert [s.serial for s in fleet.list_servers(limit=3, offset=6).items] == ["SN6"]
    assert fleet.list_servers(ServerFilter(sku="HGX-H800-8")).total == 3
    assert fleet.list_servers(ServerFilter(supplier="H3C")).total == 3
    assert fleet.list_servers(ServerFilter(network_group="ib-2")).total == 2
    assert fleet.list_servers(ServerFilter(state=S.BURN_IN)).items[0].serial == "SN1"
    assert fleet.list_servers(ServerFilter(site="BJ1")).total == 1
    assert fleet.list_servers(ServerFilter(cabinet="BJ1/A01")).total == 1
    with pytest.raises(ValidationError):
        fleet.list_servers(limit=0)
    with pytest.raises(ValidationError):
        fleet.list_servers(offset=-1)


def test_concurrent_racking_respects_the_budget(db_url: str) -> None:
    """Two racking transactions race for the last slot: the cabinet lock lets only one win."""
    engine = make_engine(db_url, pool_size=4)
    try:
        fleet = FleetService(make_session_factory(engine), SimClock())
        fleet.add_site("RACE", "race")
        fleet.add_cabinet("RACE", "C1", "10.2")  # room for exactly one H800 server
        for serial in ("R1", "R2"):
            fleet.add_server(NewServer(serial, "HGX-H800-8", state=S.DELIVERED), actor="a")
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def rack(serial: str) -> None:
            barrier.wait()
            try:
                fleet.transition(serial, S.BURN_IN, "a", "rack", cabinet="RACE/C1")
                outcomes.append("ok")
            except ConflictError as exc:
                outcomes.append(exc.code)

        threads = [threading.Thread(target=rack, args=(s,)) for s in ("R1", "R2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["cabinet.power_budget_exceeded", "ok"]
        assert fleet.get_cabinet("RACE/C1").servers == 1
    finally:
        engine.dispose()
