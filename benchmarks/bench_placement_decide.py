"""Per-decision latency of the online scheduler (FGD and FGD-full) in a replay.

A replay feeds the pods of the openb default trace (seed 42, tune 1.3, Go RNG, the experiment's
workload) one at a time to :class:`~suanli.scheduling.placement.online.OnlineScheduler`: decide,
then bind. Before the replay the scheduler is warmed with every pod shape of the trace (91; FGD's
look-ahead stays its 35 typical pods; part of loading a snapshot, timed separately), and each
bind rescores the bound node for every cached shape (timed separately: it runs after the pod has
its answer). Each ``decide`` call is timed with ``perf_counter_ns`` (wall) and ``thread_time_ns``
(this thread's CPU time, which leaves out the time the process waits while other processes run on
a shared machine); the JSON reports p50/p99/max of both per policy, the cold decisions (a shape
first seen in the replay: one full scoring), the CPU time of one decision for a never-seen shape
at the end state, and the load average at start and end.

Clusters: the 1,213-node openb cluster, and a synthetic 10,000-node cluster whose nodes are drawn
with replacement from the openb node list (numpy generator, seed 0), fed the first ``--pods-10k``
pods of a workload tuned to its capacity. Targets: p99 < 1 ms (1,213 nodes) and < 5 ms (10,000
nodes). Baseline, measured in the same run on the same replay: BestFit (a single numpy score over
all nodes); the JSON gives each policy's p99 as a ratio to it.

    nice -n 10 .venv/bin/python benchmarks/bench_placement_decide.py [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from placement_table import shared_dir
from suanli.scheduling.cluster import ClusterState, NodeTable, PodRequest
from suanli.scheduling.gorand import NumpyRand
from suanli.scheduling.placement import TypicalPods, make_policy
from suanli.scheduling.placement.online import OnlineScheduler, shape_requests
from suanli.simulation.experiments.placement import build_workload, make_rng
from suanli.simulation.traces.openb import GPU_NODES, load_nodes, load_pods, pod_file

POLICIES = ("bestfit", "fgd", "fgdfull")


def _percentiles(ms: np.ndarray, prefix: str) -> dict[str, float]:
    return {
        f"{prefix}p50_ms": round(float(np.percentile(ms, 50)), 4),
        f"{prefix}p99_ms": round(float(np.percentile(ms, 99)), 4),
        f"{prefix}max_ms": round(float(ms.max()), 3),
    }


def replay(
    nodes: NodeTable, pods: list[PodRequest], policy: str, typical: TypicalPods, full: TypicalPods
) -> dict[str, float]:
    impl = make_policy(policy, full if policy == "fgdfull" else typical)
    sched = OnlineScheduler(ClusterState.empty(nodes), impl, NumpyRand(0))
    warmed = shape_requests(full)  # every shape the operator expects, whatever the look-ahead
    t0 = time.perf_counter()
    sched.warm(warmed)
    warm_s = time.perf_counter() - t0
    seen = {pod.shape for pod in warmed} if policy != "bestfit" else None
    bind_ns = 0
    wall = np.empty(len(pods), dtype=np.int64)
    cpu = np.empty(len(pods), dtype=np.int64)
    cold = np.zeros(len(pods), dtype=np.bool_)
    placed = 0
    for i, pod in enumerate(pods):
        if seen is not None and pod.shape not in seen:
            cold[i] = True
            seen.add(pod.shape)
        c0 = time.thread_time_ns()
        t0 = time.perf_counter_ns()
        placement = sched.decide(pod)
        wall[i] = time.perf_counter_ns() - t0
        cpu[i] = time.thread_time_ns() - c0
        if placement is not None:
            t1 = time.thread_time_ns()
            sched.bind(placement, pod)
            bind_ns += time.thread_time_ns() - t1
            placed += 1
    ms, cpu_ms = wall / 1e6, cpu / 1e6
    novel = PodRequest(1234, 1, 1, 333)  # a shape never seen: one full scoring, at the end state
    c0 = time.thread_time_ns()
    sched.decide(novel)
    novel_ms = (time.thread_time_ns() - c0) / 1e6
    return {
        "decisions": len(pods),
        "placed": placed,
        **_percentiles(ms, ""),
        "mean_ms": round(float(ms.mean()), 4),
        **_percentiles(cpu_ms, "cpu_"),
        "cold_decisions": int(cold.sum()),
        "cold_cpu_mean_ms": round(float(cpu_ms[cold].mean()), 3) if cold.any() else 0.0,
        "novel_shape_cpu_ms": round(novel_ms, 3),
        "warm_up_s": round(warm_s, 3),
        "bind_incl_rescore_cpu_mean_ms": round(bind_ns / max(placed, 1) / 1e6, 4),
    }


def synthetic(nodes: NodeTable, n: int) -> NodeTable:
    idx = np.random.default_rng(0).integers(0, len(nodes), size=n)
    table = nodes.take(idx)
    return NodeTable(
        names=tuple(f"syn-{i:05d}" for i in range(n)),
        cpu_milli=table.cpu_milli,
        memory_mib=table.memory_mib,
        gpu_count=table.gpu_count,
        models=table.models,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=shared_dir() / "data" / "openb")
    parser.add_argument("--pods", type=int, default=None, help="limit the openb replay")
    parser.add_argument("--pods-10k", type=int, default=15_000)
    opts = parser.parse_args()
    nodes = load_nodes(opts.data / GPU_NODES)
    trace = load_pods(pod_file(opts.data, "default"))
    typical = TypicalPods.from_pods(trace.sorted_by_name())
    full = TypicalPods.from_pods(trace.sorted_by_name(), threshold=1.0)
    out: dict[str, object] = {
        "trace": "default",
        "seed": 42,
        "load_average_1min_start": os.getloadavg()[0],
    }
    clusters = {}
    work = build_workload(nodes, trace, make_rng("go", 42))
    clusters["openb_1213"] = (work.nodes, work.pods.requests()[: opts.pods], 1.0)
    big = synthetic(nodes, 10_000)
    work_big = build_workload(big, trace, make_rng("numpy", 42))
    clusters["synthetic_10000"] = (work_big.nodes, work_big.pods.requests()[: opts.pods_10k], 5.0)
    for name, (cluster, pods, target) in clusters.items():
        res = {p: replay(cluster, pods, p, typical, full) for p in POLICIES}
        base = res["bestfit"]["p99_ms"]
        out[name] = {
            "nodes": len(cluster),
            "target_p99_ms": target,
            "baseline": "bestfit",
            **{
                p: {
                    **r,
                    "p99_ratio_to_baseline": round(r["p99_ms"] / base, 2),
                    "meets_target_wall": r["p99_ms"] < target,
                    "meets_target_cpu": r["cpu_p99_ms"] < target,
                }
                for p, r in res.items()
            },
        }
    out["load_average_1min_end"] = os.getloadavg()[0]
    json.dump(out, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
