"""Placement speed: one run per policy on the openb default trace (tune 1.3, Go RNG, seed 42).

Prints JSON: CPU seconds (one core) and wall seconds per policy for a full run; the speed-up over
a plain-Python, node-by-node baseline measured in the same process on the first ``--prefix``
pods of the same workload (both must place every pod identically); and the peak RSS.

    .venv/bin/python benchmarks/bench_placement.py [--data DIR] [--prefix 1500]

Targets (issue 4): FGD < 5 s, other policies < 1 s, peak memory < 500 MB.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

from suanli.scheduling.cluster import GPU_MILLI, ClusterState, NodeTable, PodRequest, PodTable
from suanli.scheduling.gorand import GoRand
from suanli.scheduling.placement import POLICY_NAMES, FragModel, TypicalPods, decide, make_policy
from suanli.simulation.experiments.placement import build_workload, run_placement
from suanli.simulation.traces.openb import GPU_NODES, load_nodes, load_pods, pod_file

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    env = os.environ.get("SUANLI_SHARED")
    if env:
        return Path(env)
    beside = ROOT.parent / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


class PlainFgd:
    """Unvectorised FGD: Python loops over nodes and GPUs (frag values memoised, as the spec's
    performance note suggests); the reference the vectorised policy is compared with."""

    def __init__(self, nodes: NodeTable, typical: TypicalPods) -> None:
        state = ClusterState.empty(nodes)
        self.frag = FragModel(typical, state.model_names)
        self.allowed: dict[str, list[bool]] = {}
        self.state = state
        self.cpu = nodes.cpu_milli.tolist()
        self.mem = nodes.memory_mib.tolist()
        self.gpus = [
            row[: int(n)]
            for row, n in zip(state.gpu_left.tolist(), nodes.gpu_count.tolist(), strict=True)
        ]
        self.code = state.model_code.tolist()

    def _fits(self, i: int, pod: PodRequest) -> bool:
        if self.cpu[i] < pod.cpu_milli or self.mem[i] < pod.memory_mib:
            return False
        if pod.gpu_milli <= 0:
            return True
        if pod.gpu_spec:
            ok = self.allowed.setdefault(
                pod.gpu_spec, self.state.model_allowed(pod.gpu_spec).tolist()
            )
            if not ok[self.code[i]]:
                return False
        return sum(1 for x in self.gpus[i] if x >= pod.gpu_milli) >= pod.num_gpu

    def _score(self, i: int, pod: PodRequest) -> tuple[int, int]:
        cpu, gpus, code = self.cpu[i], self.gpus[i], self.code[i]
        before = self.frag.node_frag(cpu, gpus, code)

        def score(after_gpus: list[int]) -> int:
            after = self.frag.node_frag(cpu - pod.cpu_milli, after_gpus, code)
            return math.trunc(100 * (1 / (1 + math.exp(-(before - after) / 1000))))

        if pod.is_sharing:
            best, best_g = -1, -1
            for g, left in enumerate(gpus):
                if left >= pod.gpu_milli:
                    s = score([x - pod.gpu_milli if k == g else x for k, x in enumerate(gpus)])
                    if s > best:
                        best, best_g = s, g
            return best, best_g
        after = list(gpus)
        if pod.gpu_milli > 0:
            taken = [g for g, x in enumerate(gpus) if x == GPU_MILLI][: pod.num_gpu]
            for g in taken:
                after[g] -= GPU_MILLI
        return score(after), -1

    def place(self, pod: PodRequest) -> tuple[int, tuple[int, ...]] | None:
        feasible = [i for i in range(len(self.cpu)) if self._fits(i, pod)]
        if not feasible:
            return None
        best, node, gpu = -1, -1, -1
        for i in feasible:
            s, g = self._score(i, pod) if len(feasible) > 1 or pod.is_sharing else (0, -1)
            if s > best:
                best, node, gpu = s, i, g
        if pod.gpu_milli <= 0:
            gpus: tuple[int, ...] = ()
        elif pod.is_sharing:
            gpus = (gpu,)
        else:
            gpus = tuple(g for g, x in enumerate(self.gpus[node]) if x == GPU_MILLI)[: pod.num_gpu]
        self.cpu[node] -= pod.cpu_milli
        self.mem[node] -= pod.memory_mib
        for g in gpus:
            self.gpus[node][g] -= pod.gpu_milli
        return node, gpus


def timed(fn):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.process_time() - cpu, time.perf_counter() - wall


def baseline_ratio(nodes: NodeTable, pods: PodTable, prefix: int) -> dict[str, float]:
    work = build_workload(nodes, pods, GoRand(42))
    arrivals = work.pods.requests()[:prefix]
    typical = TypicalPods.from_pods(pods.sorted_by_name())

    def vectorised() -> list[tuple[int, tuple[int, ...]] | None]:
        state, policy, rng = ClusterState.empty(work.nodes), make_policy("fgd", typical), GoRand(1)
        out: list[tuple[int, tuple[int, ...]] | None] = []
        for pod in arrivals:
            p = decide(state, pod, policy, rng)
            out.append(None if p is None else (p.node, p.gpus))
            if p is not None:
                state.bind(p.node, p.gpus, pod)
        return out

    def plain() -> list[tuple[int, tuple[int, ...]] | None]:
        base = PlainFgd(work.nodes, typical)
        return [base.place(pod) for pod in arrivals]

    fast, fast_cpu, _ = timed(vectorised)
    slow, slow_cpu, _ = timed(plain)
    if fast != slow:
        raise SystemExit("baseline and vectorised FGD disagree")
    return {
        "pods": float(len(arrivals)),
        "vectorised_cpu_s": round(fast_cpu, 3),
        "plain_python_cpu_s": round(slow_cpu, 3),
        "speedup": round(slow_cpu / fast_cpu, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=shared_dir() / "data" / "openb")
    parser.add_argument("--prefix", type=int, default=1500)
    opts = parser.parse_args()
    nodes = load_nodes(opts.data / GPU_NODES)
    pods = load_pods(pod_file(opts.data, "default"))
    runs = {}
    for policy in POLICY_NAMES:
        result, cpu, wall = timed(lambda p=policy: run_placement(nodes, pods, p, 42, "go"))
        runs[policy] = {
            "cpu_s": round(cpu, 3),
            "wall_s": round(wall, 3),
            "alloc_at_100": float(result.curves.alloc[100]),
        }
    report = {
        "benchmark": "placement, openb default, tune 1.3, seed 42, Go RNG",
        "runs": runs,
        "fgd_vs_plain_python": baseline_ratio(nodes, pods, opts.prefix),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "targets": {"fgd_s": 5.0, "other_s": 1.0, "peak_mb": 500},
        "load_average": os.getloadavg()[0],
    }
    json.dump(report, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
