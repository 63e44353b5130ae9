"""CSV import on SQLite and PostgreSQL: all rows or nothing, and every bad row reported."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from suanli.core.clock import SimClock
from suanli.core.fleet import ServerState
from suanli.services.fleet.imports import ImportRejected, ImportService
from suanli.services.fleet.procurement import ProcurementService
from suanli.services.fleet.servers import FleetService, ServerFilter
from suanli.store.db import SessionFactory
from suanli.store.models import PurchaseOrderLineRow, ServerRow, ServerTransitionRow

SERVERS_OK = """serial,sku,purchase_price,supplier,network_group,state,cabinet
SN-1,HGX-H800-8,2100000,New H3C,ib-1,available,BJ1/A01
SN-2,HGX-H800-8,2100000.00,New H3C,ib-1,burn_in,BJ1/A01
SN-3,HGX-H20-8,,,,ordered,
SN-4,ATLAS-800T-A2,900000,,,,
"""

ORDERS_OK = """number,supplier,ordered_on,sku,quantity,unit_price,promised_on,currency
PO-1,New H3C,2023-09-15,HGX-H800-8,330,2100000,2023-12-31,CNY
PO-2,New H3C,2023-12-20,HGX-H800-8,10,2800000,2024-01-31,CNY
PO-2,New H3C,2023-12-20,HGX-H20-8,16,1100000,2024-02-28,CNY
"""


@pytest.fixture
def setup(sessions: SessionFactory, clock: SimClock) -> ImportService:
    fleet = FleetService(sessions, clock)
    fleet.add_site("BJ1", "Beijing 1")
    fleet.add_cabinet("BJ1", "A01", "20.4")
    ProcurementService(sessions, clock).add_supplier("New H3C")
    return ImportService(sessions, clock)


def _count(sessions: SessionFactory, model: type) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_import_servers(setup: ImportService, sessions: SessionFactory) -> None:
    result = setup.import_servers(SERVERS_OK, actor="ops", source="fleet.csv")
    assert result.created == ["SN-1", "SN-2", "SN-3", "SN-4"]
    fleet = FleetService(sessions, setup.clock)
    sn1 = fleet.get_server("SN-1")
    assert (sn1.state, sn1.cabinet_code, sn1.network_group) == (
        ServerState.AVAILABLE,
        "A01",
        "ib-1",
    )
    assert sn1.purchase_price == Decimal("2100000.00") and sn1.supplier == "New H3C"
    assert fleet.get_server("SN-4").state is ServerState.DELIVERED  # default state
    steps = [t.to_state for t in fleet.transitions("SN-1").items]
    assert steps == [ServerState.DELIVERED, ServerState.BURN_IN, ServerState.AVAILABLE]
    assert fleet.transitions("SN-1").items[0].reason == "imported from fleet.csv"
    assert fleet.list_servers(ServerFilter(cabinet="BJ1/A01")).total == 2


def test_bad_server_rows_all_reported_nothing_written(
    setup: ImportService, sessions: SessionFactory
) -> None:
    bad = """serial,sku,purchase_price,supplier,network_group,state,cabinet
SN-1,HGX-H800-8,2100000,,,delivered,
SN-1,HGX-H800-8,abc,,,delivered,
SN-3,HGX-NOPE,,Nobody,,,
SN-4,HGX-H800-8,-1,,,leased,
SN-5,HGX-H800-8,,,,available,
SN-6,HGX-H800-8,,,,available,XX/Z9
,HGX-H800-8,,,,,
SN-8,HGX-H800-8,,,,delivered,BJ1/A01
"""
    with pytest.raises(ImportRejected) as info:
        setup.import_servers(bad, actor="ops")
    assert info.value.code == "import.invalid_rows"
    got = {(r.line, r.column) for r in info.value.rows}
    assert got == {
        (3, "serial"), (3, "purchase_price"), (4, "sku"), (4, "supplier"), (5, "purchase_price"),
        (5, "state"), (6, "cabinet"), (7, "cabinet"), (8, "serial"), (9, "cabinet"),
    }  # fmt: skip
    assert info.value.fields["rows"][0] == {"line": 3, "column": "serial", "reason": "duplicate of line 2"}  # fmt: skip
    assert _count(sessions, ServerRow) == 0
    assert _count(sessions, ServerTransitionRow) == 0


def test_power_budget_failure_rolls_back_the_whole_file(
    setup: ImportService, sessions: SessionFactory
) -> None:
    rows = "".join(f"P-{i},HGX-H800-8,,,,available,BJ1/A01\n" for i in range(3))
    with pytest.raises(ImportRejected) as info:
        setup.import_servers("serial,sku,purchase_price,supplier,network_group,state,cabinet\n" + rows, actor="ops")  # fmt: skip
    assert [(r.line, r.column) for r in info.value.rows] == [(4, "cabinet")]
    assert "kW" in info.value.rows[0].reason
    assert _count(sessions, ServerRow) == 0


def test_header_problems(setup: ImportService) -> None:
    with pytest.raises(ImportRejected) as info:
        setup.import_servers("serial,colour\nX,red\n", actor="ops")
    assert {(r.line, r.column, r.reason) for r in info.value.rows} == {
        (1, "sku", "missing column"), (1, "colour", "unknown column")
    }  # fmt: skip
    with pytest.raises(ImportRejected, match="problem"):
        setup.import_servers("serial,sku\n", actor="ops")


def test_import_orders(setup: ImportService, sessions: SessionFactory) -> None:
    result = setup.import_orders(ORDERS_OK)
    assert result.created == ["PO-1", "PO-2"] and result.rows == 3
    po = ProcurementService(sessions, setup.clock)
    order = po.get_order("PO-2")
    assert [(ln.line_no, ln.sku, ln.quantity) for ln in order.lines] == [
        (1, "HGX-H800-8", 10), (2, "HGX-H20-8", 16)
    ]  # fmt: skip
    assert po.summary().totals["CNY"].ordered.money == Decimal(
        "738600000.00"
    )  # 693 M + 28 M + 17.6 M


def test_bad_order_rows(setup: ImportService, sessions: SessionFactory) -> None:
    bad = """number,supplier,ordered_on,sku,quantity,unit_price,promised_on,currency
PO-1,New H3C,2023-09-15,HGX-H800-8,many,2100000,2023-12-31,CNY
PO-2,Nobody,2023-12-20,HGX-H800-8,10,2800000,2024-01-31,CNY
PO-3,New H3C,2023-12-20,HGX-H800-8,10,2800000,2024-01-31,CNY
PO-3,New H3C,2023-12-21,HGX-NOPE,1,1,2024-01-31,CNY
PO-4,New H3C,20231220,HGX-H800-8,1,1,2024-01-31,CNY
PO-5,New H3C,2023-12-20,HGX-H800-8,1,1,2023-01-31,CNY
"""
    with pytest.raises(ImportRejected) as info:
        setup.import_orders(bad)
    got = {(r.line, r.column) for r in info.value.rows}
    assert got == {(2, "quantity"), (3, "supplier"), (5, "ordered_on"), (5, "sku"),
                   (6, "ordered_on"), (7, "promised_on")}  # fmt: skip
    assert _count(sessions, PurchaseOrderLineRow) == 0
