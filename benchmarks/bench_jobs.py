"""Benchmark of the job simulator. Prints one JSON document.

1. Whole Philly replay (all 11 VCs, 82,229 jobs) under FIFO and LAS: wall seconds, events/s.
2. Baseline in the same run: a naive SJF simulator that rescans and re-sorts the whole queue at
   every event (the textbook loop) against ours (lanes + heap) on one VC at 8x load — same
   schedule (asserted), time ratio.
3. Synthetic scale: N jobs (default 1,000,000) on 10,000 nodes (80,000 GPUs), fair share with
   EASY backfill: wall seconds, events/s, peak RSS, p50/p99 of one scheduling cycle.

Usage: ``python benchmarks/bench_jobs.py [--data DIR] [--jobs N] [--nodes N] [--skip-scale]``.
Targets (issue 5): FIFO < 10 s, LAS < 60 s, scale < 300 s, peak memory < 2 GB, cycle p99 < 10 ms.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import resource
import time
from pathlib import Path

import numpy as np

from suanli.scheduling.jobs.model import ClusterSpec, JobTable
from suanli.scheduling.jobs.placement import place
from suanli.scheduling.jobs.policies import make_policy
from suanli.simulation.jobsim import JobSimulator
from suanli.simulation.metrics import summary
from suanli.simulation.traces.philly import load_philly
from suanli.simulation.traces.synthetic import generate


def shared_philly() -> Path:
    env = os.environ.get("SUANLI_SHARED")
    if env:
        return Path(env) / "data" / "philly"
    beside = Path(__file__).resolve().parents[1].parent / "shared"
    return (beside if beside.is_dir() else Path("/work/shared")) / "data" / "philly"


def philly(data: Path, policy: str) -> dict[str, float]:
    trace = load_philly(data)
    t0 = time.perf_counter()
    events = jobs = 0
    for vc in trace.vcs:
        r = JobSimulator(vc.jobs, vc.cluster, make_policy(policy)).run()
        events += r.events
        jobs += int((~np.isnan(r.finish)).sum())
    wall = time.perf_counter() - t0
    return {
        "seconds": round(wall, 3),
        "jobs": jobs,
        "events": events,
        "events_per_s": round(events / wall),
    }


def naive_sjf(jobs: JobTable, cluster: ClusterSpec) -> np.ndarray:
    """Textbook loop: at every event time, sort the whole queue and try every job in turn."""
    free = cluster.node_gpus.copy()
    leaf = cluster.node_leaf
    queue: list[int] = []
    finish = np.full(len(jobs), np.nan)
    heap: list[
        tuple[float, int, int, tuple[tuple[int, int], ...]]
    ] = []  # (time, kind, job, placement)
    order = np.argsort(jobs.submit, kind="stable").tolist()
    i = 0
    while i < len(order) or heap:
        t_arr = float(jobs.submit[order[i]]) if i < len(order) else np.inf
        t = min(t_arr, heap[0][0] if heap else np.inf)
        while heap and heap[0][0] == t:
            _, _, job, placement = heapq.heappop(heap)
            for n, c in placement:
                free[n] += c
            finish[job] = t
        while i < len(order) and float(jobs.submit[order[i]]) == t:
            queue.append(order[i])
            i += 1
        queue.sort(key=lambda j: (float(jobs.duration[j]), j))
        kept = []
        for job in queue:
            p = place(free, leaf, int(jobs.gpus[job]), single_node=cluster.max_node_gpus)
            if p is None:
                kept.append(job)
                continue
            for n, c in p:
                free[n] -= c
            heapq.heappush(heap, (t + float(jobs.duration[job]), 0, job, p))
        queue = kept
    return finish


def baseline(data: Path) -> dict[str, float]:
    vc = load_philly(data, load=8.0, vcs=["6c71a0"]).vcs[0]
    t0 = time.perf_counter()
    ours = JobSimulator(vc.jobs, vc.cluster, make_policy("sjf")).run()
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    naive = naive_sjf(vc.jobs, vc.cluster)
    t_naive = time.perf_counter() - t0
    same = bool(np.allclose(naive, ours.finish))
    if not same:
        raise SystemExit("baseline and simulator disagree on the SJF schedule")
    return {
        "vc": "6c71a0",
        "load": 8.0,
        "jobs": len(vc.jobs),
        "ours_seconds": round(t_ours, 3),
        "naive_seconds": round(t_naive, 3),
        "speedup": round(t_naive / t_ours, 2),
        "same_schedule": same,
    }


def scale(n_jobs: int, nodes: int, load: float) -> dict[str, float]:
    cluster = ClusterSpec.uniform(nodes, 8, 32)
    t0 = time.perf_counter()
    jobs = generate(n_jobs, cluster.total_gpus, np.random.default_rng(0), load=load, tenants=20)
    t_gen = time.perf_counter() - t0
    policy = make_policy("fair", backfill=True)
    sim = JobSimulator(jobs, cluster, policy, timer=time.perf_counter)
    t0 = time.perf_counter()
    r = sim.run()
    wall = time.perf_counter() - t0
    cycles = np.array(r.cycle_seconds)
    fig = summary(r)
    return {
        "jobs": n_jobs,
        "nodes": nodes,
        "gpus": cluster.total_gpus,
        "offered_load": load,
        "generate_seconds": round(t_gen, 2),
        "seconds": round(wall, 2),
        "events": r.events,
        "events_per_s": round(r.events / wall),
        "cycles": r.cycles,
        "cycle_p50_ms": round(float(np.percentile(cycles, 50)) * 1e3, 4),
        "cycle_p99_ms": round(float(np.percentile(cycles, 99)) * 1e3, 4),
        "cycle_max_ms": round(float(cycles.max()) * 1e3, 2),
        "avg_queue_s": round(fig["avg_queue"], 1),
        "finished": fig["jobs"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=shared_philly())
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--load", type=float, default=4.0)
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    out: dict[str, object] = {
        "philly_fifo": philly(args.data, "fifo"),
        "philly_las": philly(args.data, "las"),
        "baseline_sjf_naive_vs_lanes": baseline(args.data),
    }
    if not args.skip_scale:
        out["synthetic_fair_backfill"] = scale(args.jobs, args.nodes, args.load)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["targets"] = {
        "philly_fifo_s": 10,
        "philly_las_s": 60,
        "scale_s": 300,
        "peak_rss_mb": 2048,
        "cycle_p99_ms": 10,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
