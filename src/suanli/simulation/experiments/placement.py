"""The FGD paper's placement experiment (USENIX ATC'23, Fig. 9-14) on an openb-style trace.

Owns: the workload construction (shuffle, tune 1.3 with replacement, fixed random node priority,
in the paper simulator's RNG order), the one-by-one placement loop with failed pods, and the
metrics at each arrived-load point 0..130 (%).

Protocol, per seed: pods only arrive (nothing departs); the pod list sorted by name is shuffled,
then pods drawn uniformly with replacement are appended until the summed GPU request reaches
``tune`` × cluster GPU capacity (traces above it are tuned down by random removals); nodes get a
random priority for the whole run (ties go to the lower value). Each pod is placed or fails; a
failed pod still counts as arrived. After every pod the allocated GPU milli, the fragmented milli
(against the trace's typical pods) and the idle milli are logged; the value at x% is the mean over
the events whose cumulative arrived request rounds to x (±1 if none), as the paper's scripts do.

With ``GoRand`` the draws are Go's, including the simulator's stray draws (1 before the shuffle,
10 before the node permutation), which reproduces the published per-seed curves exactly.

:func:`run_many` runs a grid of (policy, seed) runs, in a process pool when asked; each run is
independent and seeded, so the results (returned in grid order) do not depend on the pool.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from suanli.core.errors import ValidationError
from suanli.scheduling.cluster import ClusterState, FloatArray, IntArray, NodeTable, PodTable
from suanli.scheduling.gorand import GoRand, NumpyRand, PlacementRng
from suanli.scheduling.placement import FragModel, Policy, TypicalPods, decide, make_policy

TUNE = 1.3
X_MAX = 130
STRAY_DRAWS_BEFORE_SHUFFLE = 1
STRAY_DRAWS_BEFORE_PERM = 10
RNG_KINDS = ("numpy", "go")


def make_rng(kind: str, seed: int) -> PlacementRng:
    """``go`` (exact reproduction) or ``numpy`` (default)."""
    if kind == "go":
        return GoRand(seed)
    if kind == "numpy":
        return NumpyRand(seed)
    raise ValidationError(
        "placement.unknown_rng", f"rng must be one of {RNG_KINDS}, got {kind!r}", {"rng": kind}
    )


@dataclass(frozen=True)
class Workload:
    """Pods in arrival order and nodes in priority order (index 0 wins ties)."""

    pods: PodTable
    nodes: NodeTable


def tune_workload(
    shuffled: PodTable, reference: PodTable, target: float, rng: PlacementRng
) -> PodTable:
    """Append random copies of ``reference`` pods (or remove random pods) towards ``target``."""
    totals = reference.total_gpu_milli.tolist()
    per_gpu = reference.gpu_milli.tolist()
    order = list(range(len(shuffled)))
    total = int(shuffled.total_gpu_milli.sum())
    if total < target:
        extra: list[int] = []
        n = len(reference)
        while True:
            idx = rng.intn(n)
            if total + per_gpu[idx] > target:  # per-GPU milli, as the simulator tests it
                break
            total += totals[idx]
            extra.append(idx)
        names = shuffled.names + tuple(
            f"{reference.names[idx]}-tuned-{k}" for k, idx in enumerate(extra)
        )
        both = PodTable(
            names=shuffled.names + reference.names,
            cpu_milli=np.concatenate([shuffled.cpu_milli, reference.cpu_milli]),
            memory_mib=np.concatenate([shuffled.memory_mib, reference.memory_mib]),
            num_gpu=np.concatenate([shuffled.num_gpu, reference.num_gpu]),
            gpu_milli=np.concatenate([shuffled.gpu_milli, reference.gpu_milli]),
            gpu_spec=shuffled.gpu_spec + reference.gpu_spec,
        )
        return both.take(order + [len(shuffled) + i for i in extra], names=names)
    current = shuffled.total_gpu_milli.tolist()
    while total > target:
        idx = rng.intn(len(order))
        total -= current[order.pop(idx)]
    return shuffled.take(order)


def build_workload(
    nodes: NodeTable, pods: PodTable, rng: PlacementRng, tune: float = TUNE
) -> Workload:
    """Shuffle, tune and prioritise, drawing from ``rng`` in the simulator's order."""
    rng.discard(STRAY_DRAWS_BEFORE_SHUFFLE)
    reference = pods.sorted_by_name()
    shuffled = reference.take(rng.shuffle_order(len(reference)))
    if tune > 0:
        shuffled = tune_workload(shuffled, reference, tune * nodes.gpu_capacity_milli, rng)
    rng.discard(STRAY_DRAWS_BEFORE_PERM)
    by_name = nodes.sorted_by_name()
    priority = np.asarray(rng.perm(len(by_name)), dtype=np.int64)
    return Workload(pods=shuffled, nodes=by_name.take(np.argsort(priority, kind="stable")))


@dataclass(frozen=True)
class RunLog:
    """One row per pod event: cumulative arrived GPU milli, allocated milli, frag milli, idle
    milli and cumulative failed pods."""

    arrived: IntArray
    used: IntArray
    frag: FloatArray
    idle: IntArray
    failed: IntArray


def simulate(
    nodes: NodeTable, pods: PodTable, policy: Policy, rng: PlacementRng, typical: TypicalPods
) -> RunLog:
    """Place ``pods`` one by one on an empty cluster of ``nodes`` (row order = priority)."""
    state = ClusterState.empty(nodes)
    frag_model = FragModel(typical, state.model_names)
    codes = state.model_code.tolist()
    node_frag = [
        frag_model.node_frag(c, row, m)
        for c, row, m in zip(state.cpu_left.tolist(), state.gpu_left.tolist(), codes, strict=True)
    ]
    total_frag = float(sum(node_frag))
    capacity = state.gpu_capacity_milli
    n = len(pods)
    arrived = np.empty(n, dtype=np.int64)
    used = np.empty(n, dtype=np.int64)
    frag = np.empty(n, dtype=np.float64)
    failed = np.empty(n, dtype=np.int64)
    total_arrived = 0
    n_failed = 0
    for i, pod in enumerate(pods.requests()):
        total_arrived += pod.total_gpu_milli
        placement = decide(state, pod, policy, rng)
        if placement is None:
            n_failed += 1
        else:
            node = placement.node
            state.bind(node, placement.gpus, pod)
            new = frag_model.node_frag(
                int(state.cpu_left[node]), state.gpu_left[node].tolist(), codes[node]
            )
            total_frag += new - node_frag[node]
            node_frag[node] = new
        arrived[i] = total_arrived
        used[i] = state.used_gpu_milli
        frag[i] = total_frag
        failed[i] = n_failed
    return RunLog(arrived, used, frag, capacity - used, failed)


@dataclass(frozen=True)
class Curves:
    """Metrics at arrived load x = 0..130 (% of GPU capacity); NaN where no event is near x."""

    alloc: FloatArray  # allocated GPU milli, % of capacity
    frag_amount: FloatArray  # fragmented GPU milli, % of capacity
    frag_ratio: FloatArray  # fragmented, % of idle GPU milli
    failed: FloatArray  # pods failed so far (last event at or before x)


def discretise(log: RunLog, n_gpus: int) -> Curves:
    """The paper's ``merge_*_discrete`` step: mean of the events whose arrived % rounds to x."""
    g = float(n_gpus)
    ar = np.round(log.arrived / g / 10, 0)
    alloc = np.round(log.used / g / 10, 2)
    frag_row = np.round(log.frag, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_row = np.round(100 * log.frag / log.idle, 2)
    out = np.full((4, X_MAX + 1), np.nan)
    for x in range(X_MAX + 1):
        sel = np.flatnonzero(ar == x)
        if sel.size == 0:
            sel = np.flatnonzero((ar >= x - 1) & (ar <= x + 1))
        if sel.size:
            out[0, x] = np.round(alloc[sel].mean(), 2)
            out[1, x] = np.round(100 * frag_row[sel].mean() / 1000 / g, 2)
            out[2, x] = ratio_row[sel].mean()
        before = np.flatnonzero(ar <= x)
        out[3, x] = log.failed[before[-1]] if before.size else 0.0
    return Curves(out[0], out[1], out[2], out[3])


@dataclass(frozen=True)
class RunResult:
    policy: str
    seed: int
    rng: str
    n_pods: int
    curves: Curves


def run_placement(
    nodes: NodeTable,
    pods: PodTable,
    policy: str,
    seed: int,
    rng_kind: str = "numpy",
    tune: float = TUNE,
    coverage: float | None = None,
    weighting: str = "count",
) -> RunResult:
    """One seed of the experiment: build the workload, place every pod, discretise.
    ``coverage`` and ``weighting`` set FGD-full's look-ahead (ignored by the other policies)."""
    rng = make_rng(rng_kind, seed)
    typical = TypicalPods.from_pods(pods.sorted_by_name())
    impl = make_policy(policy, typical, pods=pods, coverage=coverage, weighting=weighting)
    workload = build_workload(nodes, pods, rng, tune)
    log = simulate(workload.nodes, workload.pods, impl, rng, typical)
    curves = discretise(log, int(nodes.gpu_count.sum()))
    return RunResult(impl.name, seed, rng_kind, len(workload.pods), curves)


RunArgs = tuple[NodeTable, PodTable, str, int, str, float]


def _run(args: RunArgs) -> RunResult:
    nodes, pods, policy, seed, rng, tune = args
    return run_placement(nodes, pods, policy, seed, rng, tune)


def run_many(
    nodes: NodeTable,
    pods: PodTable,
    policies: Sequence[str],
    seeds: Sequence[int],
    rng_kind: str = "numpy",
    tune: float = TUNE,
    *,
    workers: int = 1,
    on_done: Callable[[RunResult], None] | None = None,
) -> list[RunResult]:
    """Every policy × seed run, on ``workers`` processes (1: in this process). ``on_done`` is
    called as each run finishes (progress); the list is in grid order: policy, then seed."""
    grid: list[RunArgs] = [(nodes, pods, p, s, rng_kind, tune) for p in policies for s in seeds]
    if workers == 1:
        out = []
        for args in grid:
            out.append(_run(args))
            if on_done is not None:
                on_done(out[-1])
        return out
    done: dict[int, RunResult] = {}
    with ProcessPoolExecutor(workers) as pool:
        futures = {pool.submit(_run, args): i for i, args in enumerate(grid)}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            if on_done is not None:
                on_done(done[futures[future]])
    return [done[i] for i in range(len(grid))]


def parse_seeds(text: str) -> list[int]:
    """``"42-51"``, ``"42,45,50"`` or a mix -> sorted unique seeds."""
    seeds: set[int] = set()
    try:
        for part in text.split(","):
            lo, dash, hi = part.strip().partition("-")
            first, last = int(lo), int(hi) if dash else int(lo)
            if last < first:
                raise ValueError
            seeds.update(range(first, last + 1))
    except ValueError:
        raise ValidationError(
            "placement.bad_seeds",
            f"seeds must look like 42-51 or 42,43; got {text!r}",
            {"seeds": text},
        ) from None
    return sorted(seeds)


def _points(values: FloatArray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 4) for v in values]


def summarise(results: list[RunResult]) -> dict[str, object]:
    """JSON-ready: per policy, per seed the curves at x = 0..130 and the median over seeds."""
    policies: dict[str, dict[str, object]] = {}
    for policy in dict.fromkeys(r.policy for r in results):
        mine = sorted((r for r in results if r.policy == policy), key=lambda r: r.seed)
        alloc = np.array([r.curves.alloc for r in mine])
        frag = np.array([r.curves.frag_amount for r in mine])
        with warnings.catch_warnings():  # x points no seed reached stay NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            median_alloc = np.nanmedian(alloc, axis=0) if len(mine) else alloc
            median_frag = np.nanmedian(frag, axis=0) if len(mine) else frag
        policies[policy] = {
            "seeds": {
                str(r.seed): {
                    "n_pods": r.n_pods,
                    "alloc": _points(r.curves.alloc),
                    "frag_amount": _points(r.curves.frag_amount),
                    "frag_ratio": _points(r.curves.frag_ratio),
                    "failed_pods": _points(r.curves.failed),
                }
                for r in mine
            },
            "median": {"alloc": _points(median_alloc), "frag_amount": _points(median_frag)},
        }
    return {"x": list(range(X_MAX + 1)), "policies": policies}
