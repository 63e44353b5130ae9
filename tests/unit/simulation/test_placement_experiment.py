"""The experiment protocol: tuning, RNG order, discretisation, determinism and the summary."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.core.errors import ValidationError
from suanli.scheduling.cluster import NodeTable, PodTable
from suanli.simulation.experiments.placement import (
    RunLog,
    build_workload,
    discretise,
    parse_seeds,
    run_many,
    run_placement,
    summarise,
    tune_workload,
)


class ScriptedRng:
    """Returns scripted ``intn`` answers and records every call (a fake, not a mock)."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.calls: list[tuple[str, int]] = []

    def intn(self, n: int) -> int:
        self.calls.append(("intn", n))
        return self.answers.pop(0) if self.answers else 0

    def shuffle_order(self, n: int) -> list[int]:
        self.calls.append(("shuffle", n))
        return list(range(n))[::-1]

    def perm(self, n: int) -> list[int]:
        self.calls.append(("perm", n))
        return list(range(n))[::-1]

    def discard(self, k: int) -> None:
        self.calls.append(("discard", k))


def pod_table(rows: list[tuple[str, int, int, int]]) -> PodTable:
    """rows of (name, cpu, num_gpu, per-GPU milli)."""
    return PodTable(
        names=tuple(r[0] for r in rows),
        cpu_milli=np.array([r[1] for r in rows], dtype=np.int64),
        memory_mib=np.ones(len(rows), dtype=np.int64),
        num_gpu=np.array([r[2] for r in rows], dtype=np.int64),
        gpu_milli=np.array([r[3] for r in rows], dtype=np.int64),
        gpu_spec=("",) * len(rows),
    )


def node_table(n: int, gpus: int = 8) -> NodeTable:
    return NodeTable(
        names=tuple(f"node-{i:02d}" for i in range(n)),
        cpu_milli=np.full(n, 96000, dtype=np.int64),
        memory_mib=np.full(n, 10**6, dtype=np.int64),
        gpu_count=np.full(n, gpus, dtype=np.int64),
        models=("G2",) * n,
    )


REF = pod_table([("a", 1000, 4, 1000), ("b", 1000, 0, 0), ("c", 1000, 1, 600), ("d", 500, 1, 500)])


def test_tune_up_stops_on_per_gpu_milli_and_appends_in_draw_order() -> None:
    shuffled = REF.take([3, 2])  # total 1100
    rng = ScriptedRng([0, 1, 2, 3])
    # a: 1100 + 1000 ≤ 5000 -> total 5100 (overshoot by the 4-GPU pod); b: CPU-only, 5100 + 0 > 5000
    out = tune_workload(shuffled, REF, 5000.0, rng)
    assert out.names == ("d", "c", "a-tuned-0")
    assert rng.calls == [("intn", 4), ("intn", 4)]


def test_cpu_only_draws_do_not_stop_tuning_below_target() -> None:
    out = tune_workload(REF.take([2]), REF, 1300.0, ScriptedRng([1, 1, 3, 2]))
    # 600 -> b (+0) -> b (+0) -> d (1100) -> c: 1100 + 600 > 1300 stops
    assert out.names == ("c", "b-tuned-0", "b-tuned-1", "d-tuned-2")


def test_tune_down_removes_random_pods_in_order() -> None:
    shuffled = REF.take([0, 1, 2, 3])  # total 5100
    out = tune_workload(shuffled, REF, 1200.0, ScriptedRng([0, 1]))
    # remove index 0 (a, 4000) -> 1100 ≤ 1200
    assert out.names == ("b", "c", "d")


def test_build_workload_draw_order_and_node_priority() -> None:
    rng = ScriptedRng([3])
    nodes = node_table(3, gpus=1)
    work = build_workload(nodes, REF, rng, tune=1.0)  # capacity 3000; shuffled total 5100
    assert [c[0] for c in rng.calls] == ["discard", "shuffle", "intn", "discard", "perm"]
    assert rng.calls[0] == ("discard", 1) and rng.calls[3] == ("discard", 10)
    assert work.pods.names == ("d", "c", "b")  # reversed shuffle, then index 3 (a) removed
    assert work.nodes.names == ("node-02", "node-01", "node-00")  # perm value 0 first


def test_discretise_means_rounded_bins_with_fallback() -> None:
    g = 10  # GPUs; 1% of capacity = 100 milli
    arrived = np.array([0, 100, 120, 340, 360])  # ar = 0, 1, 1, 3, 4
    used = np.array([0, 100, 110, 300, 310])
    log = RunLog(
        arrived=arrived,
        used=used,
        frag=np.array([1000.0, 900, 800, 700, 600]),
        idle=g * 1000 - used,
        failed=np.array([0, 0, 1, 1, 2]),
    )
    curves = discretise(log, g)
    assert curves.alloc[:6].tolist()[:2] == [0.0, 1.05]
    assert curves.alloc[2] == 1.7  # no event at 2: mean of the events with ar in 1..3
    assert curves.alloc[3] == 3.0 and curves.alloc[4] == 3.1 and curves.alloc[5] == 3.1
    assert np.isnan(curves.alloc[6:]).all()
    assert curves.frag_amount[1] == pytest.approx(8.5)
    assert curves.failed[:5].tolist() == [0, 1, 1, 1, 2]


def test_parse_seeds() -> None:
    assert parse_seeds("42-44,50") == [42, 43, 44, 50]
    assert parse_seeds("7") == [7]
    for bad in ("x", "44-42", ""):
        with pytest.raises(ValidationError):
            parse_seeds(bad)


def synthetic_trace(n: int = 400) -> PodTable:
    rng = np.random.default_rng(0)
    kinds = rng.integers(0, 3, size=n)
    rows = []
    for i, kind in enumerate(kinds):
        if kind == 0:
            rows.append((f"p{i:04d}", int(rng.integers(1, 9)) * 1000, 0, 0))
        elif kind == 1:
            rows.append((f"p{i:04d}", 4000, 1, int(rng.choice([250, 500, 810]))))
        else:
            rows.append((f"p{i:04d}", 8000, int(rng.choice([1, 2, 4])), 1000))
    return pod_table(rows)


@pytest.mark.parametrize("rng", ["go", "numpy"])
def test_same_seed_same_result(rng: str) -> None:
    nodes, pods = node_table(12), synthetic_trace()
    for policy in ("fgd", "random", "bestfit"):
        a = run_placement(nodes, pods, policy, 42, rng)
        b = run_placement(nodes, pods, policy, 42, rng)
        c = run_placement(nodes, pods, policy, 43, rng)
        np.testing.assert_array_equal(a.curves.alloc, b.curves.alloc)
        np.testing.assert_array_equal(a.curves.frag_amount, b.curves.frag_amount)
        assert a.n_pods == b.n_pods
        assert not np.array_equal(a.curves.alloc, c.curves.alloc, equal_nan=True)


def test_run_many_returns_the_grid_in_order_whatever_the_pool() -> None:
    nodes, pods = node_table(12), synthetic_trace()
    seen: list[tuple[str, int]] = []
    serial = run_many(
        nodes, pods, ["fgd", "random"], [1, 2], on_done=lambda r: seen.append((r.policy, r.seed))
    )
    pooled = run_many(nodes, pods, ["fgd", "random"], [1, 2], workers=2)
    assert [(r.policy, r.seed) for r in serial] == [
        ("fgd", 1),
        ("fgd", 2),
        ("random", 1),
        ("random", 2),
    ]
    assert sorted(seen) == sorted((r.policy, r.seed) for r in serial)
    for a, b in zip(serial, pooled, strict=True):
        assert (a.policy, a.seed, a.n_pods) == (b.policy, b.seed, b.n_pods)
        np.testing.assert_array_equal(a.curves.alloc, b.curves.alloc)


def test_summary_holds_every_seed_and_the_median() -> None:
    nodes, pods = node_table(12), synthetic_trace()
    runs = [run_placement(nodes, pods, "dotprod", s, "numpy") for s in (1, 2, 3)]
    summary = summarise(runs)
    policy = summary["policies"]["dotprod"]  # type: ignore[index]
    assert sorted(policy["seeds"]) == ["1", "2", "3"]
    assert len(policy["median"]["alloc"]) == 131
    at100 = sorted(r.curves.alloc[100] for r in runs)
    assert policy["median"]["alloc"][100] == pytest.approx(at100[1])
