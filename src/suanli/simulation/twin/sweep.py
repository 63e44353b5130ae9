"""Grid sweeps of a twin: every combination of the given inputs × seeded demand paths.

Owns :func:`grid_points`, :func:`sweep_tasks`, :func:`run_task` and :func:`aggregate`. The
work is a flat list of independent tasks (one point, one path); how they are executed (serially,
a process pool, Ray) is the caller's choice: :func:`run_task` is a pure function of its task,
so any executor returns the same rows in the same order, and a sweep is reproducible whatever
ran it. Path ``i`` of every point uses seed ``seed + i`` (common random numbers across points).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from suanli.core.errors import ValidationError
from suanli.simulation.twin.run import run_path
from suanli.simulation.twin.scenario import TwinScenario

MAX_POINTS = 10_000


@dataclass(frozen=True, slots=True)
class SweepTask:
    point: int
    values: tuple[tuple[str, Any], ...]  # (dotted path, value) of this point
    scenario: TwinScenario
    seed: int


def nest(path: str, value: Any) -> dict[str, Any]:
    """``("a.b.c", 1)`` → ``{"a": {"b": {"c": 1}}}``."""
    out: dict[str, Any] = {}
    node = out
    *parents, leaf = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[leaf] = value
    return out


def grid_points(grid: Mapping[str, Sequence[Any]]) -> list[tuple[tuple[str, Any], ...]]:
    """Every combination of the grid's values, the first key varying slowest."""
    if not grid:
        return [()]
    for key, values in grid.items():
        if not values:
            raise ValidationError(
                "twin.sweep_grid", f"grid key {key!r} has no values", {key: "at least one value"}
            )
    keys = list(grid)
    points = [tuple(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]
    if len(points) > MAX_POINTS:
        raise ValidationError(
            "twin.sweep_grid",
            f"{len(points)} grid points; at most {MAX_POINTS}",
            {"grid": f"<= {MAX_POINTS} combinations"},
        )
    return points


def sweep_tasks(
    load: Callable[[dict[str, Any]], TwinScenario],
    grid: Mapping[str, Sequence[Any]],
    paths: int,
    seed: int,
) -> list[SweepTask]:
    """Tasks point-major: ``load(overrides)`` resolves and validates each point once."""
    tasks: list[SweepTask] = []
    for p, values in enumerate(grid_points(grid)):
        overrides: dict[str, Any] = {}
        for path, value in values:
            overrides = _merge(overrides, nest(path, value))
        scenario = load(overrides)
        tasks.extend(SweepTask(p, values, scenario, seed + i) for i in range(paths))
    return tasks


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def run_task(task: SweepTask) -> dict[str, Any]:
    """One path of one point: its headline figures (a flat row)."""
    path = run_path(task.scenario, task.seed)
    m = path.metrics
    months = path.book.months[1:]
    return {
        "point": task.point,
        **{k: v for k, v in task.values},
        "seed": task.seed,
        "npv": m.npv,
        "irr_annual": m.irr_annual,
        "static_payback_months": m.static_payback_months,
        "total_revenue": m.total_revenue,
        "total_net_income": m.total_net_income,
        "mean_occupancy": float(np.mean([r.occupancy for r in months])) if months else 0.0,
    }


def aggregate(rows: Iterable[Mapping[str, Any]], keys: Sequence[str]) -> list[dict[str, Any]]:
    """Per point: NPV mean and P5, P(loss) (net income < 0), never-pays-back share, occupancy."""
    by_point: dict[int, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_point.setdefault(int(row["point"]), []).append(row)
    out = []
    for point, group in sorted(by_point.items()):
        npv = np.array([r["npv"] for r in group], dtype=np.float64)
        net = np.array([r["total_net_income"] for r in group], dtype=np.float64)
        out.append(
            {
                "point": point,
                **{k: group[0][k] for k in keys},
                "paths": len(group),
                "npv_mean": float(npv.mean()),
                "npv_p5": float(np.quantile(npv, 0.05)),
                "probability_of_loss": float(np.mean(net < 0.0)),
                "never_pays_back": float(
                    np.mean([r["static_payback_months"] is None for r in group])
                ),
                "mean_occupancy": float(np.mean([r["mean_occupancy"] for r in group])),
            }
        )
    return out
