"""The FGD paper reproduced on the real openb trace (``../shared/data/openb``).

Golden source: the authors' per-seed curves ``expected/fgd_{allo,frag,frag_ratio}_discrete.csv``
(artifact of hkust-adsl/kubernetes-scheduler-simulator). Tolerance: ±0.01 pp for allocation and
frag amount (two-decimal rounding of the published values), ±0.005 for frag ratio (per-row %.2f
logging). Random is matched in distribution only (the paper's seed range at 100% arrived).
The full 6 policies × 10 seeds × 10 traces check is ``benchmarks/placement_table.py``.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from suanli.scheduling.cluster import NodeTable, PodTable
from suanli.scheduling.placement import TypicalPods
from suanli.simulation.experiments.placement import run_placement
from suanli.simulation.traces.openb import GPU_NODES, load_nodes, load_pods, pod_file

pytestmark = pytest.mark.dataset

PAPER = {
    "random": "01-Random",
    "dotprod": "02-DotProd",
    "gpuclustering": "03-GpuClustering",
    "gpupacking": "04-GpuPacking",
    "bestfit": "05-BestFit",
    "fgd": "06-FGD",
}
SEEDS = range(42, 52)


@pytest.fixture(scope="module")
def openb(shared_dir: Path) -> Path:
    return shared_dir / "data" / "openb"


@cache
def _nodes(directory: Path) -> NodeTable:
    return load_nodes(directory / GPU_NODES)


@cache
def _pods(directory: Path, trace: str) -> PodTable:
    return load_pods(pod_file(directory, trace))


@cache
def _expected(directory: Path, kind: str) -> dict[tuple[str, str, int], np.ndarray]:
    out = {}
    with (directory / "expected" / f"fgd_{kind}_discrete.csv").open(newline="") as handle:
        reader = csv.reader(handle)
        first = next(reader).index("0")
        for row in reader:
            values = [float(v) if v else np.nan for v in row[first : first + 131]]
            out[(row[0], row[1], int(row[3]))] = np.array(values)
    return out


def assert_matches(directory: Path, trace: str, policy: str, seed: int) -> None:
    result = run_placement(_nodes(directory), _pods(directory, trace), policy, seed, "go")
    key = (f"openb_pod_list_{trace}", PAPER[policy], seed)
    for kind, ours, tol in (
        ("allo", result.curves.alloc, 0.0101),
        ("frag", result.curves.frag_amount, 0.0101),
        ("frag_ratio", result.curves.frag_ratio, 0.0051),
    ):
        ref = _expected(directory, kind)[key]
        assert np.array_equal(np.isnan(ours), np.isnan(ref)), (kind, trace, policy, seed)
        worst = float(np.nanmax(np.abs(ours - ref)))
        assert worst <= tol, f"{kind} {trace} {policy} seed {seed}: max |diff| {worst}"


def test_trace_facts(openb: Path) -> None:
    nodes, pods = _nodes(openb), _pods(openb, "default")
    assert len(nodes) == 1213 and int(nodes.gpu_count.sum()) == 6212
    assert int(nodes.cpu_milli.sum()) == 107_018_000
    assert len(pods) == 8152 and int(pods.total_gpu_milli.sum()) == 6_086_800
    assert int((pods.gpu_milli == 0).sum()) == 1088
    assert int(((pods.num_gpu == 1) & (pods.gpu_milli < 1000) & (pods.gpu_milli > 0)).sum()) == 3078
    multi = {k: int((pods.num_gpu == k).sum()) for k in (2, 4, 8)}
    assert multi == {2: 16, 4: 15, 8: 44}
    typical = TypicalPods.from_pods(pods.sorted_by_name())
    assert len(typical) == 35 and int((typical.num > 1).sum()) == 0
    top = list(zip(typical.cpu[:3].tolist(), typical.milli[:3].tolist(), strict=True))
    assert top == [(3152, 810), (11300, 1000), (11400, 1000)]
    assert typical.prob[:3].round(4).tolist() == [0.1348, 0.1125, 0.0771]
    assert round(float(typical.prob[typical.milli == 0].sum()), 4) == 0.1360


@pytest.mark.parametrize("policy", ["dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd"])
def test_seed_42_default_matches_the_paper_exactly(openb: Path, policy: str) -> None:
    assert_matches(openb, "default", policy, 42)


@pytest.mark.parametrize("trace", ["gpushare100", "multigpu50"])
def test_fgd_on_variants_matches_the_paper_exactly(openb: Path, trace: str) -> None:
    assert_matches(openb, trace, "fgd", 42)


def _median_at_100(directory: Path, policy: str, rng: str) -> float:
    values = [
        run_placement(_nodes(directory), _pods(directory, "default"), policy, s, rng).curves.alloc[
            100
        ]
        for s in SEEDS
    ]
    return float(np.median(values))


def test_random_matches_in_distribution(openb: Path) -> None:
    """Random cannot match seed by seed (its draws depend on the order of parallel node scoring):
    its median over seeds 42-51 must lie in the artifact's min-max over the same seeds, not on
    the artifact's median."""
    assert 85.87 <= _median_at_100(openb, "random", "go") <= 86.79


@pytest.mark.parametrize(
    ("policy", "lo", "hi"),
    [
        ("fgd", 95.06, 95.38),
        ("bestfit", 92.64, 93.04),
        ("dotprod", 90.34, 91.00),
        ("random", 85.87, 86.79),
    ],
)
def test_numpy_mode_is_statistically_equivalent(
    openb: Path, policy: str, lo: float, hi: float
) -> None:
    assert lo <= _median_at_100(openb, policy, "numpy") <= hi


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["dotprod", "gpuclustering", "gpupacking", "bestfit", "fgd"])
def test_all_seeds_default_match_the_paper_exactly(openb: Path, policy: str) -> None:
    for seed in SEEDS:
        assert_matches(openb, "default", policy, seed)
