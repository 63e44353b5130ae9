"""Twin sweeps: the grid, the tasks, executors that agree, and the per-point aggregate."""

from __future__ import annotations

from typing import Any

import pytest

from suanli.cli import twin_sweep as ex
from suanli.core.errors import ValidationError
from suanli.simulation.twin.library import load_twin
from suanli.simulation.twin.sweep import aggregate, grid_points, nest, sweep_tasks

GRID = {"twin.prices.decline_annual": [0.0, 0.3], "twin.leases.renewal_probability": [0.2, 0.8]}


def _load(extra: dict[str, Any]) -> Any:
    return load_twin("fragmented-demand", {"horizon_months": 12, **extra})


def test_grid_is_every_combination_first_key_slowest() -> None:
    points = grid_points(GRID)
    assert [tuple(v for _, v in p) for p in points] == [
        (0.0, 0.2),
        (0.0, 0.8),
        (0.3, 0.2),
        (0.3, 0.8),
    ]
    assert nest("a.b.c", 1) == {"a": {"b": {"c": 1}}}
    assert grid_points({}) == [()]


def test_empty_or_huge_grid_is_refused() -> None:
    with pytest.raises(ValidationError) as info:
        grid_points({"twin.leases.renewal_probability": []})
    assert info.value.code == "twin.sweep_grid"
    with pytest.raises(ValidationError):
        grid_points({"a": list(range(101)), "b": list(range(100))})


def test_points_apply_their_values_and_share_seeds() -> None:
    tasks = sweep_tasks(_load, GRID, paths=2, seed=7)
    assert len(tasks) == 8
    assert [t.seed for t in tasks[:2]] == [7, 8] and [t.seed for t in tasks[2:4]] == [7, 8]
    assert tasks[4].scenario.twin.prices.decline_annual == 0.3
    assert tasks[5].scenario.twin.leases.renewal_probability == 0.2


def test_process_pool_and_serial_give_identical_rows() -> None:
    tasks = sweep_tasks(_load, GRID, paths=2, seed=0)
    serial = ex.run_serial(tasks, lambda n: None)
    pooled = ex.run_process(tasks, 2, lambda n: None)
    assert pooled == serial
    points = aggregate(serial, list(GRID))
    assert [p["paths"] for p in points] == [2, 2, 2, 2]
    first = [r["npv"] for r in serial if r["point"] == 0]
    assert points[0]["npv_mean"] == pytest.approx(sum(first) / 2)
    # a higher renewal probability keeps more servers let
    assert points[1]["mean_occupancy"] > points[0]["mean_occupancy"]


def test_unknown_backend_is_a_coded_error() -> None:
    with pytest.raises(ValidationError) as info:
        ex.resolve_backend("mpi", None)
    assert info.value.code == "twin.sweep_backend"
    assert ex.resolve_backend("auto", "127.0.0.1:6379") == "ray"


def test_sweep_csv_is_neutralised_and_keeps_numbers(tmp_path: Any) -> None:
    """The sweep's CSV went through a bare csv.DictWriter: a scenario named ``=cmd()`` ran as a
    formula in a spreadsheet. It now goes through ``write_csv``; numbers stay numbers."""
    out = tmp_path / "sweep.csv"
    ex.write_rows([{"scenario": "=cmd()", "npv": -1e-05, "seed": 3}], out)
    assert out.read_bytes() == b"scenario,npv,seed\r\n'=cmd(),-1e-05,3\r\n"
