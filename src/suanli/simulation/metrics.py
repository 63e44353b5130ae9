"""Figures of a job simulation: JCT, queueing, utilization, goodput, fairness, revenue.

Definitions (seconds unless named otherwise):

* **JCT** = finish − submit; **queueing delay** = JCT − time the job held GPUs (so waits after
  a preemption or a failure count too);
* **makespan** = last finish − first submit; **utilization** = allocated GPU-seconds /
  (GPUs × makespan);
* **goodput** = GPU-hours of useful work (requested work of finished jobs); **lost** =
  GPU-hours lost to failures (rolled-back work plus restart overhead);
* **fairness** per tenant = share of allocated GPU-seconds / entitlement (nominal quota share,
  equal shares when no quotas); Jain's index over these ratios;
* **revenue** per priority class = goodput GPU-hours × the class's price per GPU-hour, as
  ``Decimal`` rounded half-even to 0.01 (only delivered service is billed).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np

from suanli.scheduling.jobs.model import PriorityClass, TenantQuota
from suanli.simulation.jobsim import SimResult

CENT = Decimal("0.01")

#: Default GPU-hour prices (CNY): reserved at the middle of the 12-17 CNY/GPU-h H100/H800 rent
#: range (shared/reference §1, "Energy cost per GPU-hour" note); spot at half of it.
DEFAULT_PRICES: dict[PriorityClass, Decimal] = {
    PriorityClass.RESERVED: Decimal("15.00"),
    PriorityClass.SPOT: Decimal("7.50"),
}


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else 0.0


def summary(result: SimResult) -> dict[str, Any]:
    """The JSON figures of one run (the CLI's per-VC block)."""
    done = ~np.isnan(result.finish)
    jobs = result.jobs
    jct = (result.finish - result.submit)[done]
    run_time = result.attained[done] / result.jobs.gpus[done]
    queue = np.maximum(jct - run_time, 0.0)
    if done.any():
        makespan = float(np.max(result.finish[done]) - np.min(result.submit[~result.dropped]))
    else:
        makespan = 0.0
    capacity = result.total_gpus * makespan
    requested = float(np.dot(jobs.gpus[done].astype(np.float64), jobs.duration[done]))
    return {
        "jobs": int(done.sum()),
        "dropped": int(result.dropped.sum()),
        "unfinished": int((~done & ~result.dropped).sum()),
        "avg_jct": float(jct.mean()) if jct.size else 0.0,
        "p50_jct": _pct(jct, 50),
        "p99_jct": _pct(jct, 99),
        "avg_queue": float(queue.mean()) if queue.size else 0.0,
        "p99_queue": _pct(queue, 99),
        "makespan": makespan,
        "utilization": result.allocated_gpu_seconds / capacity if capacity > 0 else 0.0,
        "gpus": result.total_gpus,
        "goodput_gpu_hours": requested / 3600.0,
        "lost_gpu_hours": result.lost_failure_gpu_seconds / 3600.0,
        "allocated_gpu_hours": result.allocated_gpu_seconds / 3600.0,
        "preemptions": int(result.preemptions.sum()),
        "restarts": int(result.restarts.sum()),
        "node_failures": result.node_failures,
        "events": result.events,
        "cycles": result.cycles,
    }


def fairness(result: SimResult, quotas: Mapping[int, TenantQuota] | None = None) -> dict[str, Any]:
    """Per-tenant share of allocated GPU-seconds against entitlement, and Jain's index."""
    names = result.jobs.tenant_names
    total = float(result.tenant_gpu_seconds.sum())
    if quotas:
        nominal = np.array(
            [quotas[t].nominal if t in quotas else 0 for t in range(len(names))], float
        )
    else:
        nominal = np.ones(len(names))
    entitled = nominal / nominal.sum() if nominal.sum() > 0 else nominal
    share = result.tenant_gpu_seconds / total if total > 0 else np.zeros(len(names))
    ratio = np.divide(share, entitled, out=np.zeros_like(share), where=entitled > 0)
    jain = (
        float(ratio.sum() ** 2 / (len(ratio) * (ratio**2).sum())) if (ratio**2).sum() > 0 else 1.0
    )
    return {
        "tenants": {
            names[t]: {
                "share": float(share[t]),
                "entitlement": float(entitled[t]),
                "ratio": float(ratio[t]),
            }
            for t in range(len(names))
        },
        "jain_index": jain,
    }


def revenue(
    result: SimResult, price_per_gpu_hour: Mapping[PriorityClass, Decimal]
) -> dict[str, str]:
    """Revenue per priority class at a GPU-hour price; only finished (delivered) work."""
    done = ~np.isnan(result.finish)
    out: dict[str, str] = {}
    for pclass, price in price_per_gpu_hour.items():
        mask = done & (result.jobs.pclass == int(pclass))
        gpu_hours = float(
            np.dot(result.jobs.gpus[mask].astype(np.float64), result.jobs.duration[mask])
        )
        hours = Decimal(repr(round(gpu_hours / 3600.0, 6)))
        out[pclass.name.lower()] = str((hours * price).quantize(CENT, rounding=ROUND_HALF_EVEN))
    return out


def allocation_series(result: SimResult, points: int = 400) -> dict[str, list[float]]:
    """Allocated GPUs over time, sampled at ``points`` instants (step function)."""
    t = np.frombuffer(result.alloc_times, dtype=np.float64)
    g = np.frombuffer(result.alloc_gpus, dtype=np.float64)
    if t.size == 0:
        return {"t": [], "gpus": []}
    grid = np.linspace(float(t[0]), float(t[-1]), points)
    idx = np.clip(np.searchsorted(t, grid, side="right") - 1, 0, t.size - 1)
    return {"t": grid.tolist(), "gpus": g[idx].tolist()}


def overall(results: list[SimResult]) -> dict[str, Any]:
    """Figures over several isolated runs (the VCs of a Philly replay), from raw job data."""
    jct_parts, queue_parts = [], []
    cap = alloc = lost = good = 0.0
    dropped = unfinished = preempt = restarts = 0
    for r in results:
        s = summary(r)
        done = ~np.isnan(r.finish)
        jct = (r.finish - r.submit)[done]
        jct_parts.append(jct)
        queue_parts.append(np.maximum(jct - r.attained[done] / r.jobs.gpus[done], 0.0))
        cap += r.total_gpus * s["makespan"]
        alloc += r.allocated_gpu_seconds
        lost += s["lost_gpu_hours"]
        good += s["goodput_gpu_hours"]
        dropped += s["dropped"]
        unfinished += s["unfinished"]
        preempt += s["preemptions"]
        restarts += s["restarts"]
    jct = np.concatenate(jct_parts) if jct_parts else np.zeros(0)
    queue = np.concatenate(queue_parts) if queue_parts else np.zeros(0)
    return {
        "jobs": int(jct.size),
        "dropped": dropped,
        "unfinished": unfinished,
        "avg_jct": float(jct.mean()) if jct.size else 0.0,
        "p50_jct": _pct(jct, 50),
        "p99_jct": _pct(jct, 99),
        "avg_queue": float(queue.mean()) if queue.size else 0.0,
        "utilization": alloc / cap if cap > 0 else 0.0,
        "goodput_gpu_hours": good,
        "lost_gpu_hours": lost,
        "preemptions": preempt,
        "restarts": restarts,
    }
