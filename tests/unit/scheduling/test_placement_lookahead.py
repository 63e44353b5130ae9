"""FGD-full's look-ahead distributions: count, GPU demand, and their mix."""

from __future__ import annotations

import numpy as np
import pytest

from suanli.core.errors import ValidationError
from suanli.scheduling.cluster import PodTable
from suanli.scheduling.placement.fgdfull import shape_distribution


def pods() -> PodTable:
    # 6 sharing pods of 500 milli, 3 CPU-only pods, 1 pod of 8 whole GPUs
    rows = [(4000, 1, 500)] * 6 + [(1000, 0, 0)] * 3 + [(64000, 8, 1000)]
    return PodTable(
        names=tuple(f"p{i:02d}" for i in range(len(rows))),
        cpu_milli=np.array([r[0] for r in rows], dtype=np.int64),
        memory_mib=np.ones(len(rows), dtype=np.int64),
        num_gpu=np.array([r[1] for r in rows], dtype=np.int64),
        gpu_milli=np.array([r[2] for r in rows], dtype=np.int64),
        gpu_spec=("",) * len(rows),
    )


def weights(dist) -> dict[tuple[int, int], float]:  # type: ignore[no-untyped-def]
    return {
        (int(n), int(m)): float(p)
        for n, m, p in zip(dist.num.tolist(), dist.milli.tolist(), dist.prob.tolist(), strict=True)
    }


def test_demand_weights_by_requested_gpu_milli_and_drops_cpu_only_shapes() -> None:
    got = weights(shape_distribution(pods(), "demand", 1.0))
    # 6 x 500 = 3,000 milli against 8 x 1,000 = 8,000 milli
    assert got == pytest.approx({(1, 500): 3 / 11, (8, 1000): 8 / 11})


def test_mix_is_the_weighted_sum_of_fgds_and_the_demand_distribution() -> None:
    count = weights(shape_distribution(pods(), "count", 0.95))
    demand = weights(shape_distribution(pods(), "demand", 1.0))
    mixed = shape_distribution(pods(), "mix", 0.25)
    got = weights(mixed)
    for shape in set(count) | set(demand):
        want = 0.75 * count.get(shape, 0.0) + 0.25 * demand.get(shape, 0.0)
        assert got[shape] == pytest.approx(want)
    assert float(mixed.prob.sum()) == pytest.approx(1.0)
    assert mixed.prob.tolist() == sorted(mixed.prob.tolist(), reverse=True)
    assert weights(shape_distribution(pods(), "mix", 0.0)) == pytest.approx(count)


@pytest.mark.parametrize("alpha", [-0.1, 1.5])
def test_mix_weight_outside_zero_one_is_refused(alpha: float) -> None:
    with pytest.raises(ValidationError) as err:
        shape_distribution(pods(), "mix", alpha)
    assert err.value.code == "placement.bad_mix"
