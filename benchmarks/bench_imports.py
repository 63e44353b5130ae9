"""Bulk imports: server CSV import, streamed usage-file ingestion and the memory of a huge file.

Figures (JSON), each against a baseline measured in the same run:

1. ``servers`` (per engine): ``ImportService.import_servers`` of N servers read from a CSV file
   (a quarter racked ``available`` in cabinets, every row with a supplier) in rows/s, vs. the
   per-row path (``FleetService.add_server``: one transaction and one supplier query per row,
   on a sample) and vs. a raw executemany of the same server and transition rows.
2. ``usage`` (PostgreSQL): ``MeteringService.ingest_file`` of a CSV file of M records in
   records/s, vs. the same records already parsed, sent to ``ingest`` in batches of 5,000.
3. ``memory``: a child process imports a file of K server rows whose last row is bad; its peak
   RSS (``VmHWM``), the time, and the last bad row it reported.
4. ``po`` (per engine): child processes import a purchase-order CSV of P rows (orders of two
   lines): once with its last row bad (peak RSS, seconds, the last bad row reported, nothing
   written) and once clean (rows/s, peak RSS), vs. the per-order path
   (``ProcurementService.create_order``: one transaction and two lookups per order, on a sample).

    .venv/bin/python benchmarks/bench_imports.py [--servers 100000] [--usage 200000]
        [--memory-rows 750000] [--po-rows 750000] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from suanli.core.clock import SimClock
from suanli.core.rowfile import ImportRejected
from suanli.services.container import Services, build_services
from suanli.services.fleet.procurement import NewLine, NewOrder
from suanli.services.fleet.servers import NewServer
from suanli.store.db import make_engine, upgrade
from suanli.store.models import ServerRow, ServerTransitionRow

ADMIN_URL = os.environ.get(
    "SUANLI_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
H800 = "HGX-H800-8"
HEAD = "serial,sku,purchase_price,supplier,network_group,state,cabinet\n"
CABINETS = 50


def create_database() -> tuple[str, str]:
    name = f"suanli_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def setup(url: str) -> Services:
    engine = make_engine(url)
    upgrade(engine)
    svc = build_services(engine, SimClock(datetime(2024, 4, 1, tzinfo=UTC)))
    svc.fleet.add_site("BJ1", "Beijing")
    for c in range(CABINETS):
        svc.fleet.add_cabinet("BJ1", f"C{c:02d}", "100000")
    svc.procurement.add_supplier("New H3C")
    return svc


def write_servers(path: Path, n: int, prefix: str, bad_last: bool = False) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(HEAD)
        for i in range(n):
            price = "-1" if bad_last and i == n - 1 else "2100000"
            racked = i % 4 == 0
            state, cab = ("available", f"BJ1/C{i % CABINETS:02d}") if racked else ("", "")
            f.write(f"{prefix}{i:07d},{H800},{price},New H3C,ib-{i % 8},{state},{cab}\n")


def bench_servers(url: str, n: int, tmp: Path) -> dict[str, Any]:
    svc = setup(url)
    path = tmp / "servers.csv"
    write_servers(path, n, "IMP-")
    t0 = time.perf_counter()
    with path.open("rb") as stream:
        result = svc.imports.import_servers(stream, actor="bench", source=path.name)
    t_import = time.perf_counter() - t0
    assert len(result.created) == n

    sample = min(2000, n)  # the per-row path: one transaction and supplier lookup per server
    t0 = time.perf_counter()
    for i in range(sample):
        spec = NewServer(f"ONE-{i:07d}", H800, "2100000", None, "New H3C", f"ib-{i % 8}")
        svc.fleet.add_server(spec, actor="bench")
    per_row = sample / (time.perf_counter() - t0)

    now = svc.clock.now()
    rows = [
        dict(serial=f"RAW-{i:07d}", sku=H800, gpu_count=8, nameplate_kw=Decimal("10.2"),
             state="delivered", purchase_price=Decimal("2100000"), currency="CNY",
             supplier_id=1, network_group=f"ib-{i % 8}", created_at=now, updated_at=now)
        for i in range(n)
    ]  # fmt: skip
    t0 = time.perf_counter()
    with svc.engine.begin() as conn:
        ids = conn.execute(insert(ServerRow).returning(ServerRow.id), rows).scalars().all()
        conn.execute(insert(ServerTransitionRow), [
            dict(server_id=sid, from_state=None, to_state="delivered", actor="bench",
                 reason="raw", at=now) for sid in ids
        ])  # fmt: skip
    raw = n / (time.perf_counter() - t0)
    svc.engine.dispose()
    rate = n / t_import
    return {"servers": n, "import_s": round(t_import, 2), "import_rows_per_s": round(rate),
            "per_row_path_rows_per_s": round(per_row), "ratio_import_vs_per_row": round(rate / per_row, 1),
            "raw_executemany_rows_per_s": round(raw), "ratio_raw_vs_import": round(raw / rate, 2),
            "target_rows_per_s": 5000}  # fmt: skip


def usage_csv(path: Path, m: int, customers: int) -> list[dict[str, str]]:
    records = []
    start = datetime(2024, 3, 1, tzinfo=UTC)
    with path.open("w", encoding="utf-8") as f:
        f.write("event_id,customer,sku,priority_class,job_id,started_at,ended_at,gpu_seconds\n")
        for i in range(m):
            t0 = start + timedelta(seconds=37 * i)
            r = {"event_id": f"e{i}", "customer": f"c{i % customers:04d}", "sku": H800,
                 "priority_class": "standard" if i % 3 else "spot", "job_id": f"j{i // 10}",
                 "started_at": t0.isoformat(), "ended_at": (t0 + timedelta(hours=1)).isoformat(),
                 "gpu_seconds": str(28800 - i % 100)}  # fmt: skip
            f.write(",".join(r.values()) + "\n")
            records.append({**r, "event_id": f"p{i}"})
    return records


def bench_usage(url: str, m: int, tmp: Path) -> dict[str, Any]:
    svc = setup(url)
    customers = 200
    for c in range(customers):
        svc.money.tenancy.create_customer(f"c{c:04d}", f"Customer {c}")
    svc.money.metering.set_price(H800, "standard", "15", date(2024, 1, 1))
    svc.money.metering.set_price(H800, "spot", "6", date(2024, 1, 1))
    path = tmp / "usage.csv"
    parsed = usage_csv(path, m, customers)
    t0 = time.perf_counter()
    with path.open("rb") as stream:
        result = svc.money.metering.ingest_file(stream, jsonl=False)
    t_file = time.perf_counter() - t0
    assert result.accepted == m and result.rejected_total == 0, result.rejected[:3]
    t0 = time.perf_counter()
    for i in range(0, m, 5000):
        assert svc.money.metering.ingest(parsed[i : i + 5000]).accepted == len(parsed[i : i + 5000])
    t_parsed = time.perf_counter() - t0
    svc.engine.dispose()
    return {"records": m, "file_records_per_s": round(m / t_file), "batches": result.batches,
            "parsed_batches_records_per_s": round(m / t_parsed),
            "ratio_file_vs_parsed": round(t_parsed / t_file, 2), "target_records_per_s": 20000}  # fmt: skip


def peak_rss_mb() -> int:
    """This process's peak RSS (``VmHWM``: reset at exec, unlike ``ru_maxrss``, which keeps
    the forking parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def child_memory(url: str, path: str) -> None:
    """Run in a child: import ``path`` (its last row is bad) and print peak RSS and findings."""
    svc = build_services(make_engine(url), SimClock(datetime(2024, 4, 1, tzinfo=UTC)))
    before = peak_rss_mb()
    t0 = time.perf_counter()
    try:
        with open(path, "rb") as stream:
            svc.imports.import_servers(stream, actor="bench")
        reported: dict[str, Any] = {}
    except ImportRejected as exc:
        reported = {"total": exc.total, "last": exc.fields["rows"][-1]}
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": peak_rss_mb(),
                      "rss_before_import_mb": before, **reported}))  # fmt: skip


def bench_memory(url: str, k: int, tmp: Path) -> dict[str, Any]:
    setup(url).engine.dispose()
    path = tmp / "huge.csv"
    write_servers(path, k, "MEM-", bad_last=True)
    cmd = [sys.executable, __file__, "--child-memory", url, str(path)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    figures: dict[str, Any] = json.loads(out)
    figures.update(rows=k, file_mb=round(path.stat().st_size / 2**20), limit_mb=300)
    figures["rows_per_s"] = round(k / figures["seconds"])
    return figures


PO_HEAD = "number,supplier,ordered_on,sku,quantity,unit_price,promised_on,currency,note\n"


def write_orders(path: Path, rows: int, bad_last: bool) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(PO_HEAD)
        for i in range(rows):
            qty = "1_0" if bad_last and i == rows - 1 else str(1 + i % 16)
            sku = H800 if i % 2 == 0 else "HGX-H20-8"
            f.write(f"PO-{i // 2:07d},New H3C,2024-01-02,{sku},{qty},2100000.00,2024-03-01,CNY,\n")


def child_po(url: str, path: str) -> None:
    """Run in a child: import the order file ``path``; print seconds, peak RSS and findings."""
    svc = build_services(make_engine(url), SimClock(datetime(2024, 4, 1, tzinfo=UTC)))
    t0 = time.perf_counter()
    try:
        with open(path, "rb") as stream:
            result = svc.imports.import_orders(stream)
        reported: dict[str, Any] = {"rows": result.rows, "orders": len(result.created)}
    except ImportRejected as exc:
        reported = {"total": exc.total, "last": exc.fields["rows"][-1]}
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "peak_rss_mb": peak_rss_mb(),
                      **reported}))  # fmt: skip


def bench_po(url: str, rows: int, tmp: Path) -> dict[str, Any]:
    svc = setup(url)
    figures: dict[str, Any] = {"rows": rows, "limit_mb": 300}
    for name, bad in (("bad_last", True), ("clean", False)):
        path = tmp / f"po_{name}.csv"
        write_orders(path, rows, bad)
        cmd = [sys.executable, __file__, "--child-po", url, str(path)]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        run: dict[str, Any] = json.loads(out)
        run["rows_per_s"] = round(rows / max(run["seconds"], 0.01))
        figures[name] = run
        figures["file_mb"] = round(path.stat().st_size / 2**20)
        path.unlink()
    sample = min(1000, rows // 2)  # the per-order path: one transaction per order of two lines
    lines = [NewLine(H800, 1, "2100000", date(2024, 3, 1)),
             NewLine("HGX-H20-8", 2, "2100000", date(2024, 3, 1))]  # fmt: skip
    t0 = time.perf_counter()
    for i in range(sample):
        svc.procurement.create_order(NewOrder(f"ONE-{i:07d}", "New H3C", date(2024, 1, 2), lines))
    per_order = 2 * sample / (time.perf_counter() - t0)
    svc.engine.dispose()
    figures.update(per_order_path_rows_per_s=round(per_order),
                   ratio_stream_vs_per_order=round(figures["clean"]["rows_per_s"] / per_order, 1))  # fmt: skip
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--servers", type=int, default=100000)
    parser.add_argument("--usage", type=int, default=200000)
    parser.add_argument("--memory-rows", type=int, default=750000)
    parser.add_argument("--po-rows", type=int, default=750000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--child-memory", nargs=2, metavar=("URL", "FILE"))
    parser.add_argument("--child-po", nargs=2, metavar=("URL", "FILE"))
    args = parser.parse_args()
    if args.child_memory:
        child_memory(*args.child_memory)
        return
    if args.child_po:
        child_po(*args.child_po)
        return
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for engine in args.engines.split(","):
            urls: list[tuple[str | None, str]]
            if engine == "sqlite":
                urls = [(None, f"sqlite:///{tmp / f'{k}.db'}") for k in ("s", "m", "p")]
            else:
                urls = [create_database(), create_database(), create_database()]
            try:
                if args.servers:
                    out[f"servers_{engine}"] = bench_servers(urls[0][1], args.servers, tmp)
                if engine == "postgresql" and args.usage:
                    name, url = create_database()
                    try:
                        out["usage_postgresql"] = bench_usage(url, args.usage, tmp)
                    finally:
                        drop_database(name)
                if args.memory_rows:
                    out[f"memory_{engine}"] = bench_memory(urls[1][1], args.memory_rows, tmp)
                if args.po_rows:
                    out[f"po_{engine}"] = bench_po(urls[2][1], args.po_rows, tmp)
            finally:
                for db_name, _ in urls:
                    if db_name:
                        drop_database(db_name)
            print(json.dumps(out, indent=2), file=sys.stderr)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
