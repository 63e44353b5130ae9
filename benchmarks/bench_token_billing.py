"""Token metering and billing speed (issue 15), on a temporary SQLite file or ``--url``.

Figures (JSON):

1. ``pricing``: :func:`token_lines` over ``--records`` token items (pure), items per second,
   vs. the baseline of pricing each item alone (one call per record, then summing lines).
2. ``ingest``: ``--records`` token records through ``TokenMeteringService.ingest`` in batches
   of 5,000 (new rows), then the same batches again (all duplicates), records per second.
3. ``invoice_run``: ``BillingService.run`` for the month over ``--customers`` customers sharing
   those records, seconds and records billed per second.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_token_billing.py [--records 50000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from suanli.core.billing import parse_period
from suanli.core.clock import SimClock
from suanli.core.token_pricing import InferencePrice, InferencePriceBook, TokenItem, token_lines
from suanli.services.container import build_services
from suanli.store.db import make_engine, upgrade

APRIL = datetime(2025, 4, 1, tzinfo=UTC)
PRICES = (Decimal(2), Decimal("0.5"), Decimal(8))  # CNY per M: input miss, input hit, output


def records(n: int, customers: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, 30 * 86400, n)
    inputs = rng.integers(100, 20000, n)
    hits = (inputs * rng.random(n)).astype(int)
    outputs = rng.integers(10, 2000, n)
    return [
        {"event_id": f"r{i}", "customer": f"c{i % customers:04d}", "model": "deepseek-v3",
         "started_at": (APRIL + timedelta(seconds=int(starts[i]))).isoformat(),
         "input_tokens": int(inputs[i]), "cache_hit_tokens": int(hits[i]),
         "output_tokens": int(outputs[i])}
        for i in range(n)
    ]  # fmt: skip


def bench_pricing(rows: list[dict[str, Any]]) -> dict[str, Any]:
    book = InferencePriceBook([InferencePrice(1, "deepseek-v3", date(2025, 1, 1), *PRICES)])
    items = [
        TokenItem(datetime.fromisoformat(r["started_at"]), r["model"], r["input_tokens"],
                  r["cache_hit_tokens"], r["output_tokens"])
        for r in rows
    ]  # fmt: skip
    t0 = time.perf_counter()
    lines = token_lines(items, book)
    grouped = time.perf_counter() - t0
    sample = items[: max(1, len(items) // 10)]
    t0 = time.perf_counter()
    for item in sample:
        token_lines([item], book)
    alone = (time.perf_counter() - t0) * len(items) / len(sample)
    return {"items": len(items), "lines": len(lines), "items_per_s": round(len(items) / grouped),
            "baseline_one_call_per_item_per_s": round(len(items) / alone),
            "speedup": round(alone / grouped, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=50000)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--url", help="a migrated-or-empty database URL (default: temp SQLite)")
    args = parser.parse_args()
    rows = records(args.records, args.customers)
    out: dict[str, Any] = {"pricing": bench_pricing(rows)}
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = make_engine(url)
        upgrade(engine)
        clock = SimClock(APRIL)
        svc = build_services(engine, clock, "CNY")
        for c in range(args.customers):
            svc.money.tenancy.create_customer(f"c{c:04d}", f"Customer {c}")
        svc.money.tokens.set_price("deepseek-v3", "2", "0.5", "8", date(2025, 1, 1),
                                   night_discount="0.5")  # fmt: skip
        timings = []
        for _ in range(2):
            t0 = time.perf_counter()
            for i in range(0, len(rows), 5000):
                svc.money.tokens.ingest(rows[i : i + 5000])
            timings.append(time.perf_counter() - t0)
        out["ingest"] = {"engine": engine.dialect.name, "records": len(rows),
                         "new_per_s": round(len(rows) / timings[0]),
                         "duplicates_per_s": round(len(rows) / timings[1])}  # fmt: skip
        t0 = time.perf_counter()
        run = svc.money.billing.run(parse_period("2025-04"), issue_date=date(2025, 5, 1))
        seconds = time.perf_counter() - t0
        out["invoice_run"] = {"invoices": len(run.created), "seconds": round(seconds, 2),
                              "records_per_s": round(len(rows) / seconds)}  # fmt: skip
        engine.dispose()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
