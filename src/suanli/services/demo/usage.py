"""The demo cloud pool's metered usage, produced by the job simulator on a synthetic trace.

A Philly-fitted synthetic trace (:func:`suanli.simulation.traces.synthetic.generate`: job
sizes, log-normal durations, diurnal arrivals, Zipf tenants, a spot share) is cut to the
month's arrivals and run by :class:`suanli.simulation.jobsim.JobSimulator` (FIFO, consolidated
placement) on the pool's 8-GPU nodes. Each job holds its GPUs from its start to its finish;
those GPU-seconds are split by day and exported as one usage record per customer, class and
day, in whole server-hours (8 GPU-hours, rounded to the nearest), the unit in which the demo
operator bills its cloud pool. Deterministic for a seed.

Whole server-hours also keep every usage line a multiple of 0.50 CNY at the demo's prices, so
the ledger's ``gross = net + tax`` CHECK constraints, compared in floating point on SQLite,
hold (see docs/dashboard.md).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from suanli.core.billing import Period
from suanli.scheduling.jobs.model import ClusterSpec, JobTable, PriorityClass
from suanli.scheduling.jobs.policies import make_policy
from suanli.simulation.jobs_runs import run_trace
from suanli.simulation.jobsim import JobSimulator
from suanli.simulation.traces.synthetic import generate

SKU = "HGX-H800-8"
GPUS_PER_NODE = 8
SERVER_HOUR = GPUS_PER_NODE * 3600  # GPU-seconds in one billed unit
LOAD = 0.7
SPOT_SHARE = 0.2
DAY = 86_400.0


def simulate(
    period: Period, pool_gpus: int, tenants: int, seed: int, horizon: float
) -> tuple[JobTable, Any]:
    """Jobs arriving in the first ``horizon`` seconds of ``period`` and their simulated run."""
    rng = np.random.default_rng(seed)
    # Philly-like jobs at this load arrive at about 0.75 per GPU and day: draw twice that many.
    n = 64 + int(1.5 * pool_gpus * horizon / DAY)
    trace = generate(
        n, pool_gpus, rng, load=LOAD, tenants=tenants, spot_share=SPOT_SHARE, max_gpus=pool_gpus
    )
    keep = trace.submit < horizon
    jobs = JobTable.build(
        trace.submit[keep],
        trace.duration[keep],
        trace.gpus[keep],
        tenant=[trace.tenant_names[t] for t in trace.tenant[keep]],
        pclass=trace.pclass[keep],
        checkpoint=trace.checkpoint[keep],
    )
    cluster = ClusterSpec.uniform(max(1, pool_gpus // GPUS_PER_NODE), GPUS_PER_NODE)
    return jobs, JobSimulator(jobs, cluster, make_policy("fifo"), seed=seed).run()


def pool_run(period: Period, pool_gpus: int, tenants: int, seed: int) -> dict[str, Any]:
    """The pool's month as a job-simulator run document (``suanli sim-jobs jobs --json`` shape)."""
    horizon = float(period.seconds)
    jobs, _ = simulate(period, pool_gpus, tenants, seed, horizon)
    cluster = ClusterSpec.uniform(max(1, pool_gpus // GPUS_PER_NODE), GPUS_PER_NODE)
    return run_trace(jobs, cluster, make_policy("fifo"), seed=seed, name=f"cloud pool {period.key}")


def pool_usage(
    period: Period, pool_gpus: int, customers: list[str], seed: int, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Daily usage records (per customer and class) of the pool in ``period``, up to ``until``."""
    if pool_gpus < GPUS_PER_NODE or not customers:
        return []
    end = period.end_at if until is None else min(period.end_at, until)
    horizon = (end - period.start_at).total_seconds()
    jobs, result = simulate(period, pool_gpus, len(customers), seed, horizon)
    owner = {name: customers[i] for i, name in enumerate(jobs.tenant_names)}
    used: dict[tuple[int, str, str], float] = defaultdict(float)  # (day, customer, class)
    for j in range(len(jobs)):
        start = float(result.first_start[j])
        if not np.isfinite(start) or start >= horizon:
            continue
        finish = float(result.finish[j]) if np.isfinite(result.finish[j]) else horizon
        stop = min(finish, horizon)
        klass = "spot" if int(jobs.pclass[j]) == int(PriorityClass.SPOT) else "standard"
        customer = owner[jobs.tenant_names[int(jobs.tenant[j])]]
        t = start
        while t < stop:  # split the run by day
            day = int(t // DAY)
            nxt = min(stop, (day + 1) * DAY)
            used[(day, customer, klass)] += float(jobs.gpus[j]) * (nxt - t)
            t = nxt
    records = []
    for (day, customer, klass), gpu_seconds in sorted(used.items()):
        units = round(gpu_seconds / SERVER_HOUR)
        if units <= 0:
            continue
        start_at = period.start_at + timedelta(days=day)
        records.append(
            {
                "event_id": f"demo-pool-{start_at:%Y-%m-%d}-{customer}-{klass}",
                "customer": customer,
                "sku": SKU,
                "priority_class": klass,
                "job_id": f"daily-{start_at:%Y-%m-%d}",
                "started_at": start_at.isoformat(),
                "ended_at": min(start_at + timedelta(days=1), end).isoformat(),
                "gpu_seconds": f"{units * SERVER_HOUR}.000",
            }
        )
    return records
