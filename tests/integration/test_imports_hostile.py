"""Hostile import files on SQLite and PostgreSQL: each bad row is reported with its line and
column, nothing half-written; large files are streamed and their last bad row is reported."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import func, select

from suanli.core.clock import SimClock
from suanli.core.rowfile import ImportRejected, RowError
from suanli.services.container import Services, build_services
from suanli.services.fleet.imports import CHUNK
from suanli.store.models import PurchaseOrderRow, ServerRow, UsageRecordRow

HEAD = "serial,sku,purchase_price,supplier,network_group,state,cabinet\n"
H800 = "HGX-H800-8"


@pytest.fixture
def svc(engine, clock: SimClock) -> Services:  # type: ignore[no-untyped-def]
    services = build_services(engine, clock, "CNY")
    services.fleet.add_site("BJ1", "Beijing 1")
    services.fleet.add_cabinet("BJ1", "A01", "20.4")
    services.procurement.add_supplier("New H3C")
    return services


def count(svc: Services, model: type) -> int:
    with svc.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def rejected(fn, *args, **kw) -> set[tuple[int, str]]:  # type: ignore[no-untyped-def]
    with pytest.raises(ImportRejected) as info:
        fn(*args, **kw)
    return {(r.line, r.column) for r in info.value.rows}


def test_bad_server_rows_each_at_line_and_column(svc: Services) -> None:
    data = (HEAD + "A1,HGX-H800-8,100,,ib\xe9,,\n").encode("latin-1") + (
        "A2,HGX-H800-8,１００,,,,\n"  # full-width digits
        "A3,HGX-H800-8,1_0,,,,\n"
        "A4,HGX-H800-8,1e400,,,,\n"
        "A5,HGX-H800-8,99999999999999999999,,,,\n"
        "A6,HGX-H800-8,\x00,,,,\n"
        "A7,HGX-H800-8,12,,,,,extra\n"
        "A8,HGX-H800-8,12,,,,\n"
    ).encode()
    assert rejected(svc.imports.import_servers, io.BytesIO(data), actor="ops") == {
        (2, "network_group"), (3, "purchase_price"), (4, "purchase_price"),
        (5, "purchase_price"), (6, "purchase_price"), (7, "purchase_price"), (8, "*"),
    }  # fmt: skip
    assert count(svc, ServerRow) == 0


def test_bom_and_utf8_text_import(svc: Services) -> None:
    data = ("\ufeff" + HEAD + "Ä-1,HGX-H800-8,100,New H3C,ib-1,available,BJ1/A01\r\n").encode()
    result = svc.imports.import_servers(io.BytesIO(data), actor="ops")
    assert result.created == ["Ä-1"]
    assert svc.fleet.get_server("Ä-1").cabinet_code == "A01"


def test_header_and_encoding_reject_the_file(svc: Services) -> None:
    assert rejected(svc.imports.import_servers, "serial,sku,serial\nA,B,C\n", actor="ops") == {
        (1, "serial")
    }
    utf16 = io.BytesIO(HEAD.encode("utf-16"))
    assert rejected(svc.imports.import_servers, utf16, actor="ops") == {(1, "*")}


def test_order_numbers_must_be_ascii_and_in_range(svc: Services) -> None:
    head = "number,supplier,ordered_on,sku,quantity,unit_price,promised_on\n"
    rows = "".join(
        f"PO-{i},New H3C,2024-01-0{i},HGX-H800-8,{q},100,2024-02-01\n"
        for i, q in enumerate(["١٠", "1_0", "2147483648", "²", "5"], start=1)
    )
    got = rejected(svc.imports.import_orders, head + rows + "PO-9,New H3C,２０２４-01-01,HGX-H800-8,1,1,2024-02-01\n")  # fmt: skip
    assert got == {(2, "quantity"), (3, "quantity"), (4, "quantity"), (5, "quantity"), (7, "ordered_on")}  # fmt: skip
    assert count(svc, PurchaseOrderRow) == 0


def _big_file(n: int, bad_at: int) -> Iterator[bytes]:
    """A server CSV streamed line by line, never held whole; one bad row at ``bad_at``."""
    yield HEAD.encode()
    for i in range(n):
        price = "-1" if i == bad_at else "100"
        yield f"BIG-{i:07d},HGX-H800-8,{price},New H3C,ib-{i % 8},,\n".encode()


def test_streamed_import_reports_its_last_row_and_writes_nothing(svc: Services) -> None:
    n = 2 * CHUNK + 10
    got = rejected(svc.imports.import_servers, _big_file(n, n - 1), actor="ops")
    assert got == {(n + 1, "purchase_price")}  # header is line 1
    assert count(svc, ServerRow) == 0
    result = svc.imports.import_servers(_big_file(n, -1), actor="ops")
    assert result.rows == n and len(result.created) == n and count(svc, ServerRow) == n
    assert svc.fleet.transitions(f"BIG-{n - 1:07d}").items[0].reason == "imported from CSV"


def test_error_list_is_capped_with_first_and_last(svc: Services) -> None:
    lines = HEAD + "".join(f"E{i},NOPE,,,,,\n" for i in range(1500))
    with pytest.raises(ImportRejected) as info:
        svc.imports.import_servers(lines, actor="ops")
    assert info.value.total == 1500 and len(info.value.rows) == 1001
    assert info.value.rows[-1] == RowError(1501, "sku", "unknown server SKU 'NOPE'")


# --- usage files ------------------------------------------------------------------------------

USAGE_HEAD = "event_id,customer,sku,priority_class,job_id,started_at,ended_at,gpu_seconds\n"


def usage_row(event: str, start: str = "2024-04-02T00:00:00+00:00", seconds: str = "3600") -> str:
    return f"{event},acme,{H800},standard,j,{start},2024-04-02T01:00:00+00:00,{seconds}\n"


@pytest.fixture
def metered(svc: Services) -> Services:
    svc.money.tenancy.create_customer("acme", "Acme AI")
    svc.money.metering.set_price(H800, "standard", "15", date(2024, 1, 1))
    return svc


def test_usage_csv_with_bom_and_bad_rows(metered: Services) -> None:
    data = ("\ufeff" + USAGE_HEAD + usage_row("u1") + usage_row("u2", seconds="١٠")
            + usage_row("u3", start="0001-01-01T00:00:00+01:00")
            + usage_row("u4", start="9999-12-31T23:59:59-01:00")
            + usage_row("u5\x00") + usage_row("u6", seconds="1e309")).encode()  # fmt: skip
    data += usage_row("u7").replace("j", "j\xe9").encode("latin-1")
    result = metered.money.metering.ingest_file(io.BytesIO(data), jsonl=False, batch=2)
    assert (result.received, result.accepted, result.rejected_total) == (7, 1, 6)
    assert [(r.line, r.column) for r in result.rejected] == [
        (3, "gpu_seconds"), (4, "started_at"), (5, "started_at"), (6, "event_id"),
        (7, "gpu_seconds"), (8, "job_id"),
    ]  # fmt: skip
    again = metered.money.metering.ingest_file(io.BytesIO(data), jsonl=False)
    assert (again.accepted, again.duplicates) == (0, 1)
    assert count(metered, UsageRecordRow) == 1


def test_usage_jsonl_lines_must_be_objects(metered: Services) -> None:
    text = (
        '{"event_id": "j1", "customer": "acme", "sku": "HGX-H800-8", "started_at": '
        '"2024-04-02T00:00:00Z", "ended_at": "2024-04-02T01:00:00Z", "gpu_seconds": 60}\n'
        "[1]\n"
        '{"event_id": "j\\u0000", "customer": "acme"}\n'
        "null\n"
    )
    result = metered.money.metering.ingest_file(text, jsonl=True)
    assert result.accepted == 1
    assert [(r.line, r.column) for r in result.rejected] == [(2, "*"), (3, "event_id"), (4, "*")]


def test_usage_header_problems_reject_the_file(metered: Services) -> None:
    bad = USAGE_HEAD.replace("job_id", "customer") + usage_row("x")
    with pytest.raises(ImportRejected) as info:
        metered.money.metering.ingest_file(bad, jsonl=False)
    assert (1, "customer") in {(r.line, r.column) for r in info.value.rows}
    assert count(metered, UsageRecordRow) == 0
