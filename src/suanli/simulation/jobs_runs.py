"""Runs of the job simulator over a whole trace: every Philly VC, a user trace, a load sweep.

Returns plain dictionaries (the CLI's JSON): per VC and ``overall`` with ``avg_jct``,
``p99_jct``, ``avg_queue``, ``utilization``, ``jobs``, ``dropped`` and the other figures of
:func:`~suanli.simulation.metrics.summary`. ``progress`` is called with the number of jobs
newly finished so an interface can draw a progress bar; nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from suanli.scheduling.jobs.model import ClusterSpec, JobTable
from suanli.scheduling.jobs.policies import Policy
from suanli.simulation.failures import FailureModel
from suanli.simulation.jobsim import JobSimulator, SimResult
from suanli.simulation.metrics import (
    DEFAULT_PRICES,
    allocation_series,
    fairness,
    overall,
    revenue,
    summary,
)
from suanli.simulation.traces.philly import load_philly

Progress = Callable[[int], None]


def _run_one(
    jobs: JobTable,
    cluster: ClusterSpec,
    policy: Policy,
    failures: FailureModel | None,
    seed: int,
    progress: Progress | None,
) -> SimResult:
    seen = [0]

    def tick(done: int) -> None:
        if progress is not None:
            progress(done - seen[0])
            seen[0] = done

    result = JobSimulator(jobs, cluster, policy, failures=failures, seed=seed, progress=tick).run()
    if progress is not None:
        progress(len(jobs) - seen[0])
    return result


def run_philly(
    data_dir: Path | str,
    policy: Policy,
    *,
    load: float = 1.0,
    vcs: list[str] | None = None,
    failures: FailureModel | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    total: Callable[[int], None] | None = None,
    checkpoint: float | None = None,
) -> dict[str, Any]:
    """Replay every (or the named) Philly VC in isolation; figures per VC and overall.

    Philly has no checkpoint data: ``checkpoint`` (seconds) gives every job one, so that
    failures roll back to it instead of to the start."""
    trace = load_philly(data_dir, load=load, vcs=vcs)
    if total is not None:
        total(trace.jobs)
    results: dict[str, SimResult] = {}
    per_vc: dict[str, Any] = {}
    for i, vc in enumerate(trace.vcs):
        jobs = vc.jobs
        if checkpoint is not None:
            jobs = replace(jobs, checkpoint=np.full(len(jobs), checkpoint))
        r = _run_one(jobs, vc.cluster, policy, failures, seed + i, progress)
        results[vc.vc] = r
        figures = summary(r)
        figures["dropped"] += vc.dropped
        figures["revenue_cny"] = revenue(r, DEFAULT_PRICES)
        per_vc[vc.vc] = figures
    all_figures = overall(list(results.values()))
    all_figures["dropped"] = sum(v["dropped"] for v in per_vc.values())
    all_figures["excluded_jobs"] = trace.excluded_jobs
    all_figures["excluded_vcs"] = list(trace.excluded_vcs)
    all_figures["revenue_cny"] = _sum_revenue(v["revenue_cny"] for v in per_vc.values())
    largest = trace.vcs[0].vc if trace.vcs else None
    return {
        "trace": "philly",
        "policy": policy.name.value,
        "load": load,
        "failures": failures is not None,
        "vcs": per_vc,
        "overall": all_figures,
        "allocation": {largest: allocation_series(results[largest])} if largest else {},
    }


def run_trace(
    jobs: JobTable,
    cluster: ClusterSpec,
    policy: Policy,
    *,
    failures: FailureModel | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    name: str = "cluster",
) -> dict[str, Any]:
    """One user trace on one cluster: the same JSON shape with a single "VC"."""
    r = _run_one(jobs, cluster, policy, failures, seed, progress)
    figures = summary(r)
    figures["revenue_cny"] = revenue(r, DEFAULT_PRICES)
    return {
        "trace": "file",
        "policy": policy.name.value,
        "failures": failures is not None,
        "vcs": {name: figures},
        "overall": {
            **overall([r]),
            "dropped": figures["dropped"],
            "revenue_cny": figures["revenue_cny"],
        },
        "fairness": fairness(r, policy.quotas or None),
        "allocation": {name: allocation_series(r)},
    }


def _sum_revenue(parts: Iterable[dict[str, str]]) -> dict[str, str]:
    total: dict[str, Decimal] = {}
    for part in parts:
        for k, v in part.items():
            total[k] = total.get(k, Decimal("0")) + Decimal(v)
    return {k: str(v) for k, v in total.items()}


def sweep_philly(
    data_dir: Path | str,
    policies: Sequence[Policy],
    loads: Sequence[float],
    *,
    vcs: list[str] | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Average JCT (and per-VC figures) for every policy at every load."""
    out: dict[str, Any] = {"loads": list(loads), "runs": []}
    for load in loads:
        for policy in policies:
            run = run_philly(data_dir, policy, load=load, vcs=vcs, progress=progress)
            run.pop("allocation", None)
            out["runs"].append(run)
    return out
