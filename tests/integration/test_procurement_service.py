"""Procurement on SQLite and PostgreSQL: orders, partial deliveries per serial, cancellation,
and the three reports."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from suanli.core.catalog import PConvention, default_catalog
from suanli.core.clock import SimClock
from suanli.core.errors import ConflictError, NotFoundError, ValidationError
from suanli.core.fleet import ServerState
from suanli.services.fleet.procurement import NewLine, NewOrder, ProcurementService
from suanli.services.fleet.servers import FleetService, NewServer
from suanli.store.db import SessionFactory
from suanli.store.models import DeliveryRow, PurchaseOrderRow, ServerRow

H800_P = default_catalog().sku("HGX-H800-8").petaflops(PConvention.FP16_SPARSE)


@pytest.fixture
def po(sessions: SessionFactory, clock: SimClock) -> ProcurementService:
    svc = ProcurementService(sessions, clock)
    svc.add_supplier("New H3C", country="CN")
    svc.add_supplier("Other")
    return svc


def _order(number: str = "PO-1", qty: int = 330, price: str = "2100000") -> NewOrder:
    return NewOrder(number, "New H3C", date(2023, 9, 15),
                    [NewLine("HGX-H800-8", qty, price, date(2023, 12, 31))])  # fmt: skip


def _count(sessions: SessionFactory, model: type) -> int:
    with sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_partial_delivery_and_cancel(po: ProcurementService, sessions: SessionFactory) -> None:
    po.create_order(_order())
    serials = [f"H800-{i:03d}" for i in range(1, 13)]
    assert po.deliver("PO-1", 1, serials[:5], actor="wh", delivered_on=date(2024, 1, 10))
    po.deliver("PO-1", 1, serials[5:], actor="wh", delivered_on=date(2024, 3, 1))
    line = po.get_order("PO-1").lines[0]
    assert (line.delivered, line.cancelled, line.outstanding) == (12, 0, 318)
    fleet = FleetService(sessions, po.clock)
    server = fleet.get_server("H800-007")
    assert server.state is ServerState.DELIVERED
    assert (server.po_number, server.po_line_no, server.supplier) == ("PO-1", 1, "New H3C")
    assert server.purchase_price == Decimal("2100000.00")
    assert fleet.transitions("H800-007").items[0].reason == "delivered on PO-1 line 1"

    cancelled = po.cancel_remainder("PO-1", 1, reason="export controls", actor="buyer")
    line = cancelled.lines[0]
    assert (line.delivered, line.cancelled, line.outstanding) == (12, 318, 0)
    assert line.cancel_reason == "export controls"
    with pytest.raises(ConflictError) as info:
        po.cancel_remainder("PO-1", 1, reason="again", actor="buyer")
    assert info.value.code == "po.nothing_to_cancel"
    with pytest.raises(ConflictError) as info:
        po.deliver("PO-1", 1, ["late-one"], actor="wh")
    assert info.value.code == "po.over_delivery"
    assert [d.serial for d in po.deliveries("PO-1")] == serials


def test_summary_report_units_money_p(po: ProcurementService) -> None:
    po.create_order(_order())
    po.deliver("PO-1", 1, [f"S{i}" for i in range(12)], actor="wh", delivered_on=date(2024, 4, 1))
    po.cancel_remainder("PO-1", None, reason="supplier cannot deliver", actor="buyer")
    po.create_order(NewOrder("PO-2", "Other", date(2023, 12, 20),
                             [NewLine("HGX-H800-8", 20, "2800000", date(2024, 1, 31))]))  # fmt: skip
    report = po.summary()
    first, second = report.orders
    assert (first.ordered.units, first.delivered.units, first.cancelled.units) == (330, 12, 318)
    assert first.ordered.money == Decimal("693000000.00")  # the 693 M CNY contract
    assert first.delivered.money == Decimal("25200000.00")
    assert first.ordered.p_fp16_sparse == pytest.approx(330 * H800_P)
    assert round(first.ordered.p_fp16_sparse) == 5225
    assert first.delivered.p_bf16_dense == pytest.approx(
        first.delivered.p_fp16_sparse / 2, rel=0.01
    )
    assert second.outstanding.money == Decimal("56000000.00")
    total = report.totals["CNY"]
    assert total.ordered.units == 350 and total.outstanding.units == 20
    assert total.ordered.money == Decimal("749000000.00")


def test_overdue_and_price_history(po: ProcurementService, clock: SimClock) -> None:
    po.create_order(_order(qty=10))
    po.create_order(NewOrder("PO-2", "Other", date(2024, 3, 1),
                             [NewLine("HGX-H800-8", 2, "2800000", date(2024, 5, 1)),
                              NewLine("HGX-H20-8", 4, "1100000", date(2024, 3, 15))]))  # fmt: skip
    po.deliver("PO-1", 1, ["A", "B"], actor="wh", delivered_on=date(2024, 1, 5))
    overdue = po.overdue(as_of=date(2024, 4, 1))
    assert [(o.number, o.line_no, o.outstanding, o.days_overdue) for o in overdue] == [
        ("PO-1", 1, 8, 92), ("PO-2", 2, 4, 17)
    ]  # fmt: skip
    assert overdue[0].outstanding_money == Decimal("16800000.00")
    assert po.overdue(as_of=date(2023, 12, 31)) == []  # promised day itself is not overdue
    clock.advance(timedelta(days=400))
    assert len(po.overdue()) == 3  # default: the injected clock's today
    prices = po.prices("HGX-H800-8")
    assert [(p.ordered_on, p.unit_price) for p in prices] == [
        (date(2023, 9, 15), Decimal("2100000.00")),
        (date(2024, 3, 1), Decimal("2800000.00")),
    ]
    assert len(po.prices()) == 3
    with pytest.raises(NotFoundError):
        po.prices("HGX-NOPE")


@pytest.mark.parametrize(
    ("spec", "code", "field"),
    [
        (NewOrder("", "New H3C", date(2024, 1, 1), [NewLine("HGX-H800-8", 1, "1", date(2024, 2, 1))]), "input.required", "number"),
        (NewOrder("X", "New H3C", date(2024, 1, 1), []), "po.no_lines", "lines"),
        (NewOrder("X", "New H3C", date(2024, 1, 1), [NewLine("NOPE", 1, "1", date(2024, 2, 1))]), "catalog.unknown_sku", "lines[0].sku"),
        (NewOrder("X", "New H3C", date(2024, 1, 1), [NewLine("HGX-H800-8", 0, "1", date(2024, 2, 1))]), "po.invalid_quantity", "lines[0].quantity"),
        (NewOrder("X", "New H3C", date(2024, 1, 1), [NewLine("HGX-H800-8", 1, "-5", date(2024, 2, 1))]), "money.negative", "lines[0].unit_price"),
        (NewOrder("X", "New H3C", date(2024, 1, 1), [NewLine("HGX-H800-8", 1, "1.001", date(2024, 2, 1))]), "money.too_precise", "lines[0].unit_price"),
        (NewOrder("X", "New H3C", date(2024, 1, 1), [NewLine("HGX-H800-8", 1, "1", date(2023, 2, 1))]), "po.promised_before_order", "lines[0].promised_on"),
        (NewOrder("X", "Nobody", date(2024, 1, 1), [NewLine("HGX-H800-8", 1, "1", date(2024, 2, 1))]), "supplier.not_found", "supplier"),
    ],
)  # fmt: skip
def test_bad_orders_write_nothing(
    po: ProcurementService, sessions: SessionFactory, spec: NewOrder, code: str, field: str
) -> None:
    with pytest.raises((ValidationError, NotFoundError)) as info:
        po.create_order(spec)
    assert info.value.code == code and field in info.value.fields
    assert _count(sessions, PurchaseOrderRow) == 0


def test_bad_deliveries_write_nothing(
    po: ProcurementService, sessions: SessionFactory, clock: SimClock
) -> None:
    po.create_order(_order(qty=3))
    FleetService(sessions, clock).add_server(NewServer("TAKEN", "HGX-H800-8", state=ServerState.DELIVERED), actor="a")  # fmt: skip
    cases = [
        (("PO-1", 1, ["A", "A"]), "delivery.duplicate_serials"),
        (("PO-1", 1, []), "delivery.no_serials"),
        (("PO-1", 1, ["A", "B", "C", "D"]), "po.over_delivery"),
        (("PO-1", 1, ["A", "TAKEN"]), "delivery.serial_exists"),
        (("PO-1", 2, ["A"]), "po.line_not_found"),
        (("PO-9", 1, ["A"]), "po.not_found"),
    ]
    for args, code in cases:
        with pytest.raises((ValidationError, ConflictError, NotFoundError)) as info:
            po.deliver(*args, actor="wh", delivered_on=date(2024, 1, 1))
        assert info.value.code == code
    with pytest.raises(ValidationError) as info:
        po.deliver("PO-1", 1, ["A"], actor="wh", delivered_on=clock.now().date() + timedelta(1))
    assert info.value.code == "delivery.in_future"
    with pytest.raises(ValidationError) as info:
        po.deliver("PO-1", 1, ["A"], actor="wh", delivered_on=date(2023, 1, 1))
    assert info.value.code == "delivery.before_order"
    assert _count(sessions, DeliveryRow) == 0
    assert _count(sessions, ServerRow) == 1


def test_preregistered_ordered_servers(
    po: ProcurementService, sessions: SessionFactory, clock: SimClock
) -> None:
    po.create_order(_order(qty=3))
    fleet = FleetService(sessions, clock)
    fleet.add_server(NewServer("PRE-1", "HGX-H800-8"), actor="a")
    fleet.add_server(NewServer("PRE-2", "HGX-H20-8"), actor="a")
    po.deliver("PO-1", 1, ["PRE-1"], actor="wh", delivered_on=date(2024, 1, 1))
    server = fleet.get_server("PRE-1")
    assert (server.state, server.po_number) == (ServerState.DELIVERED, "PO-1")
    with pytest.raises(ConflictError) as info:
        po.deliver("PO-1", 1, ["PRE-2"], actor="wh", delivered_on=date(2024, 1, 1))
    assert info.value.code == "delivery.sku_mismatch"
    with pytest.raises(ConflictError):
        po.add_supplier("Other")
    assert [s.name for s in po.list_suppliers()] == ["New H3C", "Other"]


def test_cancelling_a_line_cancels_its_ordered_servers(
    po: ProcurementService, sessions: SessionFactory, clock: SimClock
) -> None:
    po.create_order(_order(qty=3))
    fleet = FleetService(sessions, clock)
    fleet.add_server(NewServer("PRE-1", "HGX-H800-8"), actor="a")
    fleet.add_server(NewServer("PRE-2", "HGX-H800-8"), actor="a")
    po.deliver("PO-1", 1, ["PRE-1"], actor="wh", delivered_on=date(2024, 1, 1))
    with sessions.begin() as s:  # PRE-2 announced on the line but never shipped
        s.scalars(select(ServerRow).where(ServerRow.serial == "PRE-2")).one().po_line_id = 1
    po.cancel_remainder("PO-1", 1, reason="short shipment", actor="buyer")
    assert fleet.get_server("PRE-2").state is ServerState.CANCELLED
    assert fleet.get_server("PRE-1").state is ServerState.DELIVERED
    assert fleet.transitions("PRE-2").items[-1].reason == "short shipment"
    with pytest.raises(NotFoundError):
        po.cancel_remainder("PO-1", 9, reason="x", actor="buyer")
