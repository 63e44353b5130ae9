"""Leasing and billing performance on PostgreSQL (a temporary database, dropped at the end).

Figures (JSON), each against a baseline measured in the same run:

1. ``ingest``: usage records per second through ``POST /api/v1/usage/batches`` (batches of
   5,000, uvicorn in a subprocess, httpx) vs. the same endpoint fed one record per request.
2. ``invoice_run``: ``BillingService.run`` for one month of 1,000 customers × 10 leased servers
   (10,000 servers) plus their month of usage vs. invoicing customers one by one
   (``run(customer=...)``, which reloads contracts per call), as time per customer.
3. ``list_latency``: p50/p95 of list endpoints (contracts, invoices, usage, customers) with 50
   concurrent clients, each sending a request, waiting for the answer, then pausing (mean
   ``--think`` seconds); vs. a single client. The headline p95 comes from ``wrk`` (Debian
   package; C, so the load generator adds no latency) with seeded uniform 0..2×think pauses after
   a warm-up. The httpx run with a fixed pause, where all 50 clients fire in lockstep, is kept as
   a worst case (``httpx_lockstep``).

Setup rows (customers, servers, contracts, allocations) are written with bulk INSERTs; the
measured paths go through the API or the services.

The API runs under ``python -m suanli.api.server`` (uvicorn's supervisor on a socket whose
connections get ``TCP_NODELAY``; plain ``uvicorn --workers`` adds ~40 ms to every response).

    .venv/bin/python benchmarks/bench_billing.py [--customers 1000] [--records-per-day 10]
    # latency only: same data (usage and invoices included), untimed seeding; keep the database
    .venv/bin/python benchmarks/bench_billing.py --only latency --keep-db
    # then iterate on the kept database (the name is printed on stderr)
    .venv/bin/python benchmarks/bench_billing.py --db suanli_bench_xxxxxxxxxx
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import create_engine, insert, text

from suanli.core.billing import parse_period
from suanli.core.clock import SimClock
from suanli.services.container import build_services
from suanli.store.db import make_engine, upgrade
from suanli.store.models import ContractRow, CustomerRow, LeaseAllocationRow, ServerRow

ADMIN_URL = os.environ.get(
    "SUANLI_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
H800 = "HGX-H800-8"
MONTH = (date(2024, 3, 1), date(2024, 4, 1))


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
        conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def seed(url: str, customers: int, per_customer: int) -> None:
    """Customers, leased servers, lease contracts and allocations (bulk INSERTs)."""
    engine = make_engine(url)
    now = datetime(2024, 2, 1, tzinfo=UTC)
    start = datetime(2024, 3, 1, tzinfo=UTC)
    end = datetime(2025, 3, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(CustomerRow),
            [
                dict(
                    id=i + 1,
                    code=f"c{i:05d}",
                    name=f"Customer {i}",
                    payment_terms_days=30,
                    created_at=now,
                )
                for i in range(customers)
            ],
        )
        conn.execute(insert(ServerRow), [
            dict(id=i + 1, serial=f"S{i:06d}", sku=H800, gpu_count=8, nameplate_kw=Decimal("10.2"), state="leased",
                 currency="CNY", created_at=now, updated_at=now)
            for i in range(customers * per_customer)
        ])  # fmt: skip
        conn.execute(insert(ContractRow), [
            dict(id=i + 1, number=f"L-{i + 1:06d}", customer_id=i + 1, kind="lease", status="active", sku=H800,
                 server_count=per_customer, start_date=MONTH[0], term_months=12, end_date=date(2025, 3, 1),
                 monthly_rent=Decimal("70000"), cabinet_fee=Decimal("3000"), om_fee=Decimal("1500"),
                 fees_as_agent=False, deposit=Decimal(0), prepayment=Decimal(0), notice_days=30, auto_renew=False,
                 early_termination_months=Decimal(3), sla_uptime=Decimal("0.995"), vat_rate=Decimal("0.13"),
                 fee_vat_rate=Decimal("0.06"), committed_gpus=0, gpu_hour_rate=Decimal(0), min_commitment=Decimal(0), renewal_months=12,
                 created_at=now)
            for i in range(customers)
        ])  # fmt: skip
        conn.execute(insert(LeaseAllocationRow), [
            dict(contract_id=i // per_customer + 1, customer_id=i // per_customer + 1, server_id=i + 1,
                 starts_at=start, ends_at=end, delivered_at=start)
            for i in range(customers * per_customer)
        ])  # fmt: skip
        for table in ("customers", "servers", "contracts"):
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )
            )
    svc = build_services(engine, SimClock(now))
    svc.money.metering.set_price(H800, "standard", "15", date(2024, 1, 1))
    svc.money.metering.set_price(H800, "spot", "6", date(2024, 1, 1))
    engine.dispose()


def usage_records(customers: int, per_day: int) -> list[dict[str, Any]]:
    records = []
    for c in range(customers):
        for day in range(31):
            for k in range(per_day):
                t0 = datetime(2024, 3, 1, tzinfo=UTC) + timedelta(days=day, hours=k)
                records.append({
                    "event_id": f"c{c}-{day}-{k}", "customer": f"c{c:05d}", "sku": H800,
                    "priority_class": "spot" if k % 3 == 0 else "standard", "job_id": f"job-{c}-{day}",
                    "started_at": t0.isoformat(), "ended_at": (t0 + timedelta(hours=1)).isoformat(),
                    "gpu_seconds": str(8 * 3600 - k),
                })  # fmt: skip
    return records


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ, SUANLI_DATABASE_URL=url)
    # suanli.api.server: uvicorn's supervisor on a TCP_NODELAY socket (see its docstring)
    cmd = [sys.executable, "-m", "suanli.api.server", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--no-access-log"]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the API server did not start")


def bench_ingest(
    base: str, headers: dict[str, str], records: list[dict[str, Any]]
) -> dict[str, float]:
    baseline_n = 300
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        t0 = time.perf_counter()
        for r in records[:baseline_n]:
            client.post("/api/v1/usage/batches", json={"records": [r]}).raise_for_status()
        single = baseline_n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        accepted = 0
        for i in range(baseline_n, len(records), 5000):
            resp = client.post("/api/v1/usage/batches", json={"records": records[i : i + 5000]})
            resp.raise_for_status()
            accepted += resp.json()["accepted"]
        bulk = (len(records) - baseline_n) / (time.perf_counter() - t0)
        assert accepted == len(records) - baseline_n
        t0 = time.perf_counter()
        again = client.post(
            "/api/v1/usage/batches", json={"records": records[baseline_n : baseline_n + 5000]}
        ).json()
        assert again["accepted"] == 0 and again["duplicates"] == 5000
    return {"records": len(records), "bulk_records_per_s": round(bulk), "single_record_requests_per_s": round(single),
            "ratio_bulk_vs_single": round(bulk / single, 1), "target_records_per_s": 20000}  # fmt: skip


def bench_invoice_run(url: str, customers: int) -> dict[str, float]:
    engine = make_engine(url, pool_size=5)
    svc = build_services(engine, SimClock(datetime(2024, 4, 1, 3, tzinfo=UTC)))
    period = parse_period("2024-03")
    sample = [f"c{i:05d}" for i in range(max(1, min(50, customers // 10)))]
    t0 = time.perf_counter()
    for code in sample:  # baseline: one customer per call
        svc.money.billing.run(period, customer=code)
    one_by_one = (time.perf_counter() - t0) / len(sample)
    t0 = time.perf_counter()
    result = svc.money.billing.run(period)
    elapsed = time.perf_counter() - t0
    assert len(result.created) == customers - len(sample) and len(result.skipped) == len(sample)
    again = svc.money.billing.run(period)
    assert again.created == []
    engine.dispose()
    per_customer = elapsed / len(result.created)
    return {"customers": customers, "seconds": round(elapsed, 2), "projected_seconds_all_customers": round(per_customer * customers, 2),
            "ms_per_customer": round(per_customer * 1000, 2), "baseline_ms_per_customer_one_by_one": round(one_by_one * 1000, 2),
            "ratio_one_by_one_vs_run": round(one_by_one / per_customer, 1), "target_seconds": 60}  # fmt: skip


def seed_usage_and_invoices(
    base: str, headers: dict[str, str], url: str, args: argparse.Namespace
) -> None:
    """The rows ``ingest`` and ``invoice_run`` leave behind, without timing them."""
    records = usage_records(args.customers, args.records_per_day)
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        for i in range(0, len(records), 5000):
            client.post(
                "/api/v1/usage/batches", json={"records": records[i : i + 5000]}
            ).raise_for_status()
    engine = make_engine(url, pool_size=5)
    svc = build_services(engine, SimClock(datetime(2024, 4, 1, 3, tzinfo=UTC)))
    svc.money.billing.run(parse_period("2024-03"))
    engine.dispose()


PATHS = ["/api/v1/contracts", "/api/v1/invoices", "/api/v1/usage", "/api/v1/customers"]


async def _load(
    base: str, tokens: list[dict[str, str]], clients: int, seconds: float, think: float
) -> dict[str, list[float]]:
    paths = PATHS
    latencies: dict[str, list[float]] = {path: [] for path in paths}
    stop = time.perf_counter() + seconds

    async def client(n: int) -> None:
        async with httpx.AsyncClient(
            base_url=base, headers=tokens[n % len(tokens)], timeout=30
        ) as c:
            i = n
            while time.perf_counter() < stop:
                t0 = time.perf_counter()
                path = paths[i % len(paths)]
                resp = await c.get(path, params={"limit": 50})
                latencies[path].append(time.perf_counter() - t0)
                assert resp.status_code == 200, resp.text
                i += 1
                await asyncio.sleep(think)

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def p(values: list[float], q: float) -> float:
    return round(statistics.quantiles(values, n=100)[int(q) - 1] * 1000, 1)


WRK_SCRIPT = """
local paths = {%(paths)s}
local tokens = {%(tokens)s}
local i = 0
math.randomseed(%(seed)d)
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1] .. "?limit=50",
                    {["Authorization"] = tokens[(i %% #tokens) + 1]})
end
delay = function() return math.random(0, %(max_think_ms)d) end
done = function(summary, latency, requests)
  io.write(string.format("SUANLI %%d %%d %%d %%d %%d\\n", latency:percentile(50),
    latency:percentile(95), latency:percentile(99), summary.requests, summary.errors.status))
end
"""


def wrk_latency(
    base: str, tokens: list[dict[str, str]], think: float, seconds: int = 20
) -> dict[str, Any] | None:
    """50 connections from ``wrk`` (C, Debian package), each pausing a seeded uniform 0..2×think
    between requests (mean ``think``), after a 3 s warm-up. Unlike the Python client below, the
    load generator adds no latency of its own and the clients do not move in lockstep."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    script = WRK_SCRIPT % {
        "paths": ", ".join(f'"{p}"' for p in PATHS),
        "tokens": ", ".join(f'"{t["Authorization"]}"' for t in tokens),
        "seed": 2024,
        "max_think_ms": int(2 * think * 1000),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        subprocess.run(
            [wrk, "-t2", "-c50", "-d3s", "-s", f.name, base], capture_output=True, check=True
        )
        out = subprocess.run([wrk, "-t2", "-c50", f"-d{seconds}s", "-s", f.name, base],
                             capture_output=True, text=True, check=True).stdout  # fmt: skip
    finally:
        os.unlink(f.name)
    line = next(ln for ln in out.splitlines() if ln.startswith("SUANLI "))
    p50, p95, p99, requests, non_2xx = (int(x) for x in line.split()[1:])
    return {"p50_ms": round(p50 / 1000, 1), "p95_ms": round(p95 / 1000, 1), "p99_ms": round(p99 / 1000, 1),
            "requests": requests, "requests_per_s": round(requests / seconds), "non_2xx": non_2xx,
            "think": f"uniform 0..{2 * think} s per request, seeded", "warmup_s": 3}  # fmt: skip


def bench_latency(base: str, tokens: list[dict[str, str]], think: float) -> dict[str, Any]:
    single_by_path = asyncio.run(_load(base, tokens, 1, 5, 0))
    asyncio.run(_load(base, tokens, 50, 3, think))  # warm-up: connections, pools, caches
    many_by_path = asyncio.run(_load(base, tokens, 50, 15, think))
    single = [x for v in single_by_path.values() for x in v]
    many = [x for v in many_by_path.values() for x in v]
    lockstep = {"p95_ms_by_path": {k.rsplit("/", 1)[1]: p(v, 95) for k, v in many_by_path.items()},
                "requests": len(many), "requests_per_s": round(len(many) / 15), "p50_ms": p(many, 50),
                "p95_ms": p(many, 95), "think": f"fixed {think} s: all 50 clients fire together"}  # fmt: skip
    jittered = wrk_latency(base, tokens, think)
    headline = jittered["p95_ms"] if jittered else lockstep["p95_ms"]
    return {"clients": 50, "think_s": think, "p95_ms": headline,
            "p95_source": "wrk, jittered think" if jittered else "httpx lockstep (install wrk)",
            "wrk_jittered": jittered, "httpx_lockstep": lockstep,
            "baseline_1_client_p95_ms": p(single, 95), "ratio_p95_50_vs_1": round(headline / p(single, 95), 2),
            "target_p95_ms": 50}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--servers-per-customer", type=int, default=10)
    ap.add_argument("--records-per-day", type=int, default=10)
    ap.add_argument(
        "--think", type=float, default=0.5, help="pause of each client between requests"
    )
    ap.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    ap.add_argument(
        "--only",
        choices=["all", "latency"],
        default="all",
        help="latency: seed the same data (usage and invoices included) but time only the list endpoints",
    )
    ap.add_argument(
        "--keep-db", action="store_true", help="do not drop the database (its name is printed)"
    )
    ap.add_argument("--db", help="reuse a database seeded by an earlier --keep-db run")
    args = ap.parse_args()
    fresh = args.db is None
    if fresh:
        name, url = create_database()
    else:
        name, url = args.db, ADMIN_URL.rsplit("/", 1)[0] + f"/{args.db}"
    proc = None
    try:
        if fresh:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            seed(url, args.customers, args.servers_per_customer)
        svc_engine = make_engine(url)
        tenancy = build_services(svc_engine, SimClock(datetime.now(UTC))).money.tenancy
        if fresh:
            admin = {"Authorization": f"Bearer {tenancy.bootstrap().secret}"}
        else:
            admin = {"Authorization": f"Bearer {tenancy.issue_token('admin').secret}"}
        tokens = [admin]
        for i in range(5):
            if fresh:
                tenancy.create_user(f"cust{i}", "customer", f"c{i:05d}")
            tokens.append({"Authorization": f"Bearer {tenancy.issue_token(f'cust{i}').secret}"})
        svc_engine.dispose()
        port = free_port()
        proc = start_server(url, port, args.workers)
        base = f"http://127.0.0.1:{port}"
        out: dict[str, Any] = {
            "database": "postgresql",
            "cpus": os.cpu_count(),
            "load_average_at_start": os.getloadavg()[0],
            "uvicorn_workers": args.workers,
        }
        if fresh and args.only == "latency":
            seed_usage_and_invoices(base, admin, url, args)
        elif fresh:
            out["ingest"] = bench_ingest(
                base, admin, usage_records(args.customers, args.records_per_day)
            )
            out["invoice_run"] = bench_invoice_run(url, args.customers)
        out["list_latency"] = bench_latency(base, tokens, args.think)
        print(json.dumps(out, indent=2))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            proc.wait(10)
        if args.keep_db or not fresh:
            print(f"kept database {name}", file=sys.stderr)
        else:
            drop_database(name)


if __name__ == "__main__":
    main()
