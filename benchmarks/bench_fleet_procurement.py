"""Fleet & procurement throughput on a temporary SQLite database (or SUANLI_BENCH_DATABASE_URL).

Figures (JSON): CSV import of N servers (validated, one transaction, every lifecycle step
recorded) against a baseline measured in the same run (a raw multi-row INSERT of the same
servers without validation or transitions), delivery of N serials against one order line,
server listing pages and the procurement summary report.

    .venv/bin/python benchmarks/bench_fleet_procurement.py [N]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from sqlalchemy import insert

from suanli.core.clock import SimClock
from suanli.services.container import build_services
from suanli.services.fleet.procurement import NewLine, NewOrder
from suanli.store.db import make_engine, upgrade
from suanli.store.models import ServerRow

T = TypeVar("T")


def _timed(fn: Callable[[], T]) -> tuple[float, T]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def main(n: int = 2000) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        clock = SimClock(datetime(2024, 4, 1, tzinfo=UTC))
        svc = build_services(engine, clock)
        svc.fleet.add_site("BJ1", "Beijing")
        svc.procurement.add_supplier("New H3C")

        csv = "serial,sku,purchase_price,supplier,network_group\n" + "".join(
            f"IMP-{i:06d},HGX-H800-8,2100000,New H3C,ib-{i % 8}\n" for i in range(n)
        )
        t_import, _ = _timed(lambda: svc.imports.import_servers(csv, actor="bench"))

        now = clock.now()
        rows = [
            dict(serial=f"RAW-{i:06d}", sku="HGX-H800-8", gpu_count=8,
                 nameplate_kw=Decimal("10.2"), state="delivered",
                 purchase_price=Decimal("2100000"), currency="CNY", created_at=now,
                 updated_at=now)
            for i in range(n)
        ]  # fmt: skip

        def raw() -> None:
            with engine.begin() as conn:
                conn.execute(insert(ServerRow), rows)

        t_raw, _ = _timed(raw)

        svc.procurement.create_order(
            NewOrder("PO-1", "New H3C", date(2023, 9, 15),
                     [NewLine("HGX-H800-8", n, "2100000", date(2023, 12, 31))])
        )  # fmt: skip
        serials = [f"DLV-{i:06d}" for i in range(n)]
        t_deliver, _ = _timed(
            lambda: svc.procurement.deliver("PO-1", 1, serials, "bench", date(2024, 1, 10))
        )
        t_page, _ = _timed(lambda: [svc.fleet.list_servers(limit=100, offset=o) for o in range(0, 1000, 100)])  # fmt: skip
        t_summary, _ = _timed(svc.procurement.summary)
        engine.dispose()
    return {
        "servers": n,
        "import_s": round(t_import, 3),
        "raw_insert_baseline_s": round(t_raw, 4),
        "import_vs_raw_ratio": round(t_import / t_raw, 1),
        "import_rows_per_s": round(n / t_import),
        "deliver_s": round(t_deliver, 3),
        "deliver_serials_per_s": round(n / t_deliver),
        "list_10_pages_of_100_s": round(t_page, 3),
        "summary_report_s": round(t_summary, 4),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000), indent=2))
