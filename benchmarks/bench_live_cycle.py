"""The live admission cycle (CloudJobService.schedule) on the simulated engine: seconds per cycle.

A ledger on a temporary SQLite file, ``--nodes`` 8-GPU nodes synced in, four customers with
reserved commitments, ``--jobs`` jobs (1-16 GPUs, one in three reserved) submitted in four
batches; one cycle after each batch: refresh, snapshot from ledger + engine, the pure cycle,
requeues and launches. Prints JSON: seconds per cycle and launches per cycle.

    PYTHONPATH=src python benchmarks/bench_live_cycle.py --nodes 64 --jobs 400
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from suanli.backends.simulated import SimulatedBackend
from suanli.core.clock import SimClock
from suanli.services.billing.leasing import ReservedSpec
from suanli.services.cluster.cloud_jobs import CloudJobService
from suanli.services.cluster.inventory import ClusterConfig, ClusterService
from suanli.services.container import build_services
from suanli.store.db import make_engine, upgrade

CUSTOMERS = ("a", "b", "c", "d")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        clock = SimClock(datetime(2024, 4, 1, 9, tzinfo=UTC))
        svc = build_services(engine, clock, "CNY")
        svc.fleet.add_site("DEV", "bench")
        svc.fleet.add_cabinet("DEV", "R1", "100000")
        backend = SimulatedBackend.uniform(clock, args.nodes)
        config = ClusterConfig("dev", cabinet="DEV/R1")
        cluster = ClusterService(svc.sessions, clock, svc.catalog, backend, config)
        jobs = CloudJobService(svc.sessions, clock, svc.catalog, cluster)
        cluster.sync(apply=True)
        today = clock.now().date()
        for code in CUSTOMERS:
            svc.money.tenancy.create_customer(code, code)
            spec = ReservedSpec(code, "HGX-H800-8", args.nodes * 2, "20", today, 12)
            svc.money.leasing.create_reserved(spec, "ops")
        rnd = random.Random(args.seed)
        batch = max(args.jobs // 4, 1)
        seconds, launches = [], []
        for i in range(args.jobs):
            gpus = rnd.choice([1, 2, 4, 8, 8, 16])
            klass = rnd.choice(["spot", "spot", "reserved"])
            jobs.submit(CUSTOMERS[i % 4], gpus, klass, "x")
            if (i + 1) % batch == 0:
                t0 = time.perf_counter()
                outcome = jobs.schedule()
                seconds.append(round(time.perf_counter() - t0, 4))
                launches.append(len(outcome.admits))
        engine.dispose()
    print(json.dumps({"nodes": args.nodes, "jobs": args.jobs, "cycle_seconds": seconds,
                      "launches": launches}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
