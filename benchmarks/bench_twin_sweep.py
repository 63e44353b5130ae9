"""Twin sweep scaling: 64 grid points on Ray with 2 workers against 1 worker (issue 14).

Target: >= 1.7x faster on 2 workers than on 1. Each point is one seeded path of the bundled
``fragmented-demand`` twin (60 months, about 0.3 s); the grid is 8 rent declines x 8 renewal
probabilities. Both runs start their own local Ray (``num_cpus`` = workers), so Ray's start-up
is inside both timings; the serial run in the same process is reported as the baseline too.
Rows of every run are compared: a sweep gives the same numbers whatever executes it.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_twin_sweep.py [--points-per-axis 8]
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from suanli.cli.twin_sweep import run_ray, run_serial
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.sweep import sweep_tasks


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--points-per-axis", type=int, default=8)
    args = ap.parse_args()
    n = args.points_per_axis
    grid = {
        "twin.prices.decline_annual": [round(0.05 * i, 2) for i in range(n)],
        "twin.leases.renewal_probability": [round(0.1 * i, 2) for i in range(n)],
    }

    def load(extra: dict[str, Any]) -> Any:
        return load_twin("fragmented-demand", extra)

    tasks = sweep_tasks(load, grid, paths=1, seed=0)
    timings: dict[str, float] = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    for name, run in (
        ("serial", lambda: run_serial(tasks, lambda k: None)),
        ("ray_1_worker", lambda: run_ray(tasks, None, 1, lambda k: None)),
        ("ray_2_workers", lambda: run_ray(tasks, None, 2, lambda k: None)),
    ):
        t0 = time.perf_counter()
        rows[name] = run()
        timings[name] = time.perf_counter() - t0
    speedup = timings["ray_1_worker"] / timings["ray_2_workers"]
    print(
        json.dumps(
            {
                "benchmark": "twin_sweep",
                "points": len(tasks),
                "seconds": {k: round(v, 2) for k, v in timings.items()},
                "speedup_2_vs_1_workers": round(speedup, 2),
                "target_speedup": 1.7,
                "within_target": speedup >= 1.7,
                "same_rows": rows["serial"] == rows["ray_1_worker"] == rows["ray_2_workers"],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
