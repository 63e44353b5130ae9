"""Twin sweep scaling: 64 grid points on Ray with 2 workers against 1 worker (issue 14).

Target: >= 1.7x faster on 2 workers than on 1. Each point is one seeded path of the bundled
``fragmented-demand`` twin (60 months, about 0.3 s); the grid is 8 rent declines x 8 renewal
probabilities. Both runs start their own local Ray (``num_cpus`` = workers), so Ray's start-up
is inside both timings; the serial run in the same process is reported as the baseline too.
Rows of every run are compared: a sweep gives the same numbers whatever executes it.

Ray's start-up (a few seconds on a small machine, paid once per ``ray.init``) is a fixed cost
that no worker count shares, so the sweep is also timed on a warm local Ray (started, every
worker having run one point) — what a sweep sent to a running cluster with ``--address`` pays.
Both speed-ups are printed; run it on an otherwise idle machine.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_twin_sweep.py [--points-per-axis 8]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from suanli.cli.twin_sweep import run_ray, run_serial
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.sweep import run_task, sweep_tasks


def warm_ray(tasks: list[Any], workers: int) -> tuple[float, list[dict[str, Any]]]:
    """The sweep's wall time on a local Ray of ``workers`` CPUs already started and warmed."""
    import ray

    ray.init(num_cpus=workers, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        remote = ray.remote(run_task)
        ray.get([remote.remote(tasks[0]) for _ in range(workers)])  # start and import, each worker
        t0 = time.perf_counter()
        rows = ray.get([remote.remote(t) for t in tasks])
        return time.perf_counter() - t0, rows
    finally:
        ray.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points-per-axis", type=int, default=8)
    ap.add_argument("--scenario", default="fragmented-demand")
    ap.add_argument("--months", type=int, default=None, help="horizon override")
    ap.add_argument("--skip-cold", action="store_true", help="only the warm Ray timings")
    args = ap.parse_args()
    n = args.points_per_axis
    grid = {
        "twin.prices.decline_annual": [round(0.05 * i, 2) for i in range(n)],
        "twin.leases.renewal_probability": [round(0.1 * i, 2) for i in range(n)],
    }

    def load(extra: dict[str, Any]) -> Any:
        if args.months is not None:
            extra = {**extra, "horizon_months": args.months}
        return load_twin(args.scenario, extra)

    tasks = sweep_tasks(load, grid, paths=1, seed=0)
    timings: dict[str, float] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    runs = [("serial", lambda: run_serial(tasks, lambda k: None))]
    if not args.skip_cold:
        runs += [
            ("ray_1_worker", lambda: run_ray(tasks, None, 1, lambda k: None)),
            ("ray_2_workers", lambda: run_ray(tasks, None, 2, lambda k: None)),
        ]
    for name, run in runs:
        t0 = time.perf_counter()
        rows[name] = run()
        timings[name] = time.perf_counter() - t0
    speedup = (
        timings["ray_1_worker"] / timings["ray_2_workers"] if not args.skip_cold else float("nan")
    )
    warm1, rows["warm_1"] = warm_ray(list(tasks), 1)
    warm2, rows["warm_2"] = warm_ray(list(tasks), 2)
    warm_speedup = warm1 / warm2
    print(
        json.dumps(
            {
                "benchmark": "twin_sweep",
                "scenario": args.scenario,
                "months": args.months,
                "points": len(tasks),
                "seconds": {k: round(v, 2) for k, v in timings.items()},
                "speedup_2_vs_1_workers": round(speedup, 2),
                "target_speedup": 1.7,
                "within_target": speedup >= 1.7,
                "warm_seconds": {"ray_1_worker": round(warm1, 2), "ray_2_workers": round(warm2, 2)},
                "warm_speedup_2_vs_1_workers": round(warm_speedup, 2),
                "warm_within_target": warm_speedup >= 1.7,
                "same_rows": all(r == rows["serial"] for r in rows.values()),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
