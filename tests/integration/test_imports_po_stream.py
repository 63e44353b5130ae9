"""Streamed purchase-order import on SQLite and PostgreSQL (issue 12): a file larger than one
batch is grouped and written batch by batch inside one transaction; a bad row at its end is
reported with its line and column and nothing is written; an order's rows are contiguous."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from suanli.core.clock import SimClock
from suanli.core.rowfile import ImportRejected
from suanli.services.container import Services, build_services
from suanli.services.fleet.imports import CHUNK
from suanli.store.models import PurchaseOrderLineRow, PurchaseOrderRow

HEAD = "number,supplier,ordered_on,sku,quantity,unit_price,promised_on,currency,note\n"


@pytest.fixture
def svc(engine, clock: SimClock) -> Services:  # type: ignore[no-untyped-def]
    services = build_services(engine, clock, "CNY")
    services.procurement.add_supplier("New H3C")
    return services


def count(svc: Services, model: type) -> int:
    with svc.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def po_file(orders: int, bad: dict[int, str] | None = None) -> Iterator[bytes]:
    """Orders of two lines each (rows 2i and 2i+1), streamed line by line; ``bad`` replaces the
    quantity of the given 0-based row."""
    bad = bad or {}
    yield HEAD.encode()
    for row in range(2 * orders):
        qty = bad.get(row, str(1 + row % 7))
        sku = "HGX-H800-8" if row % 2 == 0 else "HGX-H20-8"
        yield f"PO-{row // 2:07d},New H3C,2024-01-02,{sku},{qty},1000.50,2024-03-01,CNY,n\n".encode()


def rejected(svc: Services, data: Iterator[bytes]) -> ImportRejected:
    with pytest.raises(ImportRejected) as info:
        svc.imports.import_orders(data)
    return info.value


def test_bad_row_at_the_end_of_a_large_file_is_reported(svc: Services) -> None:
    orders = 2500  # 5,000 rows, one batch and more
    rows = 2 * orders
    assert rows >= CHUNK
    err = rejected(svc, po_file(orders, {rows - 1: "1_0", 10: "x"}))
    assert [(r.line, r.column) for r in err.rows] == [(12, "quantity"), (rows + 1, "quantity")]
    assert count(svc, PurchaseOrderRow) == count(svc, PurchaseOrderLineRow) == 0


def test_large_file_is_written_in_batches(svc: Services) -> None:
    orders = CHUNK + 7  # two full batches and a tail
    result = svc.imports.import_orders(po_file(orders))
    assert result.rows == 2 * orders and len(result.created) == orders
    assert count(svc, PurchaseOrderRow) == orders
    assert count(svc, PurchaseOrderLineRow) == 2 * orders
    order = svc.procurement.get_order(f"PO-{orders - 1:07d}")
    assert [(ln.line_no, ln.sku) for ln in order.lines] == [(1, "HGX-H800-8"), (2, "HGX-H20-8")]
    assert str(order.lines[0].unit_price) == "1000.50"


def test_an_order_number_met_again_later_is_a_bad_row(svc: Services) -> None:
    data = HEAD + (
        "PO-1,New H3C,2024-01-02,HGX-H800-8,1,1,2024-03-01,CNY,\n"
        "PO-2,New H3C,2024-01-02,HGX-H800-8,1,1,2024-03-01,CNY,\n"
        "PO-1,New H3C,2024-01-02,HGX-H800-8,1,1,2024-03-01,CNY,\n"
    )
    with pytest.raises(ImportRejected) as info:
        svc.imports.import_orders(data)
    assert [(r.line, r.column) for r in info.value.rows] == [(4, "number")]
    assert "began at line 2" in info.value.rows[0].reason
    assert count(svc, PurchaseOrderRow) == 0


def test_a_bad_supplier_in_the_last_batch_rolls_back_the_written_batches(svc: Services) -> None:
    def data() -> Iterator[bytes]:
        yield from po_file(CHUNK)
        yield b"PO-LAST,Nobody,2024-01-02,HGX-H800-8,1,1,2024-03-01,CNY,\n"

    err = rejected(svc, data())
    assert [(r.line, r.column) for r in err.rows] == [(2 * CHUNK + 2, "supplier")]
    assert count(svc, PurchaseOrderRow) == 0


def test_jsonl_orders_stream_and_report_line_and_column(svc: Services) -> None:
    good = (
        '{"number": "PO-1", "supplier": "New H3C", "ordered_on": "2024-01-02", '
        '"sku": "HGX-H800-8", "quantity": 2, "unit_price": "1000.50", "promised_on": "2024-03-01"}'
    )
    data = "\n".join([
        good,
        good.replace('"quantity": 2', '"quantity": 2.5').replace("PO-1", "PO-2"),
        "[1, 2]",
        good.replace("PO-1", "PO-3").replace('"sku"', '"colour": "red", "sku"'),
        good.replace("PO-1", "PO-4").replace('"quantity": 2', '"quantity": "1_0"'),
    ]) + "\n"  # fmt: skip
    with pytest.raises(ImportRejected) as info:
        svc.imports.import_orders(data, jsonl=True)
    assert [(r.line, r.column) for r in info.value.rows] == [
        (2, "quantity"), (3, "*"), (4, "colour"), (5, "quantity")
    ]  # fmt: skip
    assert count(svc, PurchaseOrderRow) == 0
    result = svc.imports.import_orders(good + "\n", jsonl=True)
    assert result.created == ["PO-1"]
    assert svc.procurement.get_order("PO-1").lines[0].quantity == 2
