"""Digital twin speed and memory: 36 months of 500 H800 servers (4,000 GPUs) with a dynamic
bare-metal/pool split under Philly-like training demand (issue 14).

Target: < 60 s on one core and < 2 GB. The measured twin owns a 250-server pool
(``twin.pool.split = "dynamic"``, demand at ``--load`` × the own servers' GPU-hours) and lends it
every server the bare-metal leases leave idle, reclaimed when a lease starts. Baselines (same
run): the same twin with no pool (bare metal only, the lease book alone), so the ratio shows what
the pool's job simulation costs, and the static split at the same demand, so the ratio shows what
lending costs. The share of wall time spent in the scheduling cycle comes from the job
simulator's cycle timer.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_twin.py [--months 36] [--servers 500]
"""

from __future__ import annotations

import argparse
import json
import resource
import time

from suanli.simulation.twin.leasebook import simulate_book
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.run import run_path


def scenario(
    servers: int, months: int, pool: int, split: str = "dynamic", load: float = 1.2
) -> object:
    scale = servers / 100
    return load_twin(
        "static-mix",
        {
            "horizon_months": months,
            "fleet": {"count": servers},
            "twin": {
                "leases": {"arrival_rate_per_month": 12 * scale * (servers - pool) / servers},
                "pool": {"servers": pool, "load": load, "job_gpu_scale": 8, "split": split},
            },
        },
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--servers", type=int, default=500)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--load", type=float, default=1.2)
    args = ap.parse_args()
    pooled = scenario(args.servers, args.months, args.servers // 2, "dynamic", args.load)
    bare = scenario(args.servers, args.months, 0)

    t0 = time.perf_counter()
    run_path(bare, args.seed)  # type: ignore[arg-type]
    bare_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    book = simulate_book(pooled, args.seed, timer=time.perf_counter)  # type: ignore[arg-type]
    sim_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    path = run_path(pooled, args.seed)  # type: ignore[arg-type]
    full_s = time.perf_counter() - t0
    static = scenario(args.servers, args.months, args.servers // 2, "static", args.load)
    t0 = time.perf_counter()
    static_path = run_path(static, args.seed)  # type: ignore[arg-type]
    static_s = time.perf_counter() - t0
    cycle_s = sum(m.pool.cycle_seconds for m in book.months)
    jobs = sum(m.pool.jobs for m in book.months)
    util = [m.pool.utilization for m in book.months if m.pool.servers]
    lent = [m.pool.lent_servers for m in book.months if m.pool.servers]
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "benchmark": "twin",
                "servers": args.servers,
                "gpus": args.servers * 8,
                "pool_servers": args.servers // 2,
                "months": args.months,
                "pool_jobs": jobs,
                "split": "dynamic",
                "load": args.load,
                "pool_utilization_mean": sum(util) / len(util) if util else None,
                "lent_servers_mean": sum(lent) / len(lent) if lent else None,
                "twin_seconds": round(full_s, 2),
                "target_seconds": 60,
                "within_target": full_s < 60,
                "peak_rss_mb": round(peak_mb, 1),
                "within_memory_target": peak_mb < 2048,
                "scheduling_cycle_share": round(cycle_s / sim_s, 3) if sim_s else None,
                "baseline_bare_metal_seconds": round(bare_s, 3),
                "ratio_vs_bare_metal": round(full_s / bare_s, 1) if bare_s else None,
                "baseline_static_split_seconds": round(static_s, 2),
                "ratio_vs_static_split": round(full_s / static_s, 2) if static_s else None,
                "npv": path.metrics.npv,
                "npv_static_split": static_path.metrics.npv,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
