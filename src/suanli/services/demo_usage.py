"""A month of metered usage on the demo's cloud pool, from a small seeded job trace.

PLACEHOLDER until the job simulator (issue 5) is part of the build: jobs arrive as a Poisson
stream (gang sizes 8/16/32 GPUs, log-normal durations rounded to whole hours, classes
standard/spot/high), are started first-come-first-served on the pool's GPUs, and each run
becomes one usage record (GPU-seconds) of the customer that submitted it, cut at ``until``.
Deterministic for a seed.

Whole hours × gangs of 8 GPUs keep every usage amount a multiple of 8 GPU-hours, so with the
demo's prices every invoice line is a multiple of 0.50 CNY (see the note on SQLite in
docs/dashboard.md).
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from suanli.core.billing import Period

SKU = "HGX-H800-8"
GANGS = (8, 16, 32)
GANG_P = (0.5, 0.35, 0.15)
CLASSES = ("standard", "spot", "high")
CLASS_P = (0.7, 0.2, 0.1)
TARGET_LOAD = 0.75  # offered GPU-hours / pool GPU-hours


def pool_usage(
    period: Period, pool_gpus: int, customers: list[str], seed: int, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Usage records for jobs that start within ``period`` (and before ``until``) on
    ``pool_gpus`` GPUs, first come first served; runs still going at ``until`` are cut there."""
    if pool_gpus <= 0:
        return []
    rng = np.random.default_rng(seed)
    hours = period.days * 24.0
    stop = hours if until is None else min(hours, (until - period.start_at).total_seconds() / 3600)
    mean_gpus = float(np.dot(GANGS, GANG_P))
    median_h = 6.0
    mean_h = median_h * float(np.exp(0.9**2 / 2))
    rate = TARGET_LOAD * pool_gpus / (mean_gpus * mean_h)  # jobs per hour
    n = int(rng.poisson(rate * hours))
    arrivals = np.sort(rng.uniform(0.0, hours, n))
    gangs = rng.choice(GANGS, n, p=GANG_P)
    durations = np.clip(np.round(rng.lognormal(np.log(median_h), 0.9, n)), 1.0, 72.0)
    classes = rng.choice(len(CLASSES), n, p=CLASS_P)
    owners = rng.integers(0, len(customers), n)
    running: list[tuple[float, int]] = []  # (end hour, gpus)
    free = pool_gpus
    clock = 0.0
    records: list[dict[str, Any]] = []
    for j in range(n):
        gpus = int(min(gangs[j], pool_gpus))
        clock = max(clock, float(arrivals[j]))  # FIFO: never start before an earlier job
        while free < gpus:
            end, g = heapq.heappop(running)
            clock = max(clock, end)
            free += g
        clock = float(np.ceil(clock))  # jobs start on the hour
        if clock >= stop:
            break
        end = clock + float(durations[j])
        heapq.heappush(running, (end, gpus))
        free -= gpus
        start_at = period.start_at + timedelta(hours=clock)
        run_h = min(end, float(np.floor(stop)) if until is not None else end) - clock
        if run_h <= 0:
            continue
        records.append(
            {
                "event_id": f"demo-pool-{period.key}-{j:05d}",
                "customer": customers[int(owners[j])],
                "sku": SKU,
                "priority_class": CLASSES[int(classes[j])],
                "job_id": f"job-{period.key}-{j:05d}",
                "started_at": start_at.isoformat(),
                "ended_at": (start_at + timedelta(hours=run_h)).isoformat(),
                "gpu_seconds": f"{gpus * run_h * 3600:.3f}",
            }
        )
    return records
