"""Executors of `suanli twin sweep`: serial, a local process pool, or Ray (local or a cluster).

Edges only: each maps :func:`suanli.simulation.twin.sweep.run_task` over the tasks and returns
the rows in task order, calling ``advance(n)`` as tasks finish so the CLI can draw progress.
Ray is the ``[ray]`` extra and imported only here, when asked for; the ``auto`` backend uses it
when it is installed and a process pool otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from suanli.core.errors import ValidationError
from suanli.core.rowfile import write_csv
from suanli.simulation.twin.sweep import SweepTask, run_task

Advance = Callable[[int], None]
BACKENDS = ("auto", "ray", "process", "serial")


def ray_installed() -> bool:
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str, address: str | None) -> str:
    if backend not in BACKENDS:
        raise ValidationError(
            "twin.sweep_backend", f"unknown backend {backend!r}", {"backend": list(BACKENDS)}
        )
    if backend == "auto":
        return "ray" if (address or ray_installed()) else "process"
    return backend


def run_serial(tasks: Sequence[SweepTask], advance: Advance) -> list[dict[str, Any]]:
    rows = []
    for task in tasks:
        rows.append(run_task(task))
        advance(1)
    return rows


def run_process(
    tasks: Sequence[SweepTask], workers: int | None, advance: Advance
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any] | None] = [None] * len(tasks)
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(run_task, t): i for i, t in enumerate(tasks)}
        for future in as_completed(futures):
            rows[futures[future]] = future.result()
            advance(1)
    return [r for r in rows if r is not None]


def run_ray(
    tasks: Sequence[SweepTask], address: str | None, workers: int | None, advance: Advance
) -> list[dict[str, Any]]:
    try:
        import ray
    except ImportError as exc:
        raise ValidationError(
            "twin.ray_unavailable",
            "Ray is not installed: pip install 'suanli[ray]', or use --backend process",
            {"backend": "process | serial"},
        ) from exc
    options: dict[str, Any] = {
        "include_dashboard": False,
        "logging_level": "ERROR",
        "log_to_driver": False,
    }
    if address:
        options["address"] = address
    elif workers:
        options["num_cpus"] = workers
    ray.init(**options)
    try:
        remote = ray.remote(run_task)
        refs = [remote.remote(t) for t in tasks]
        index = {ref: i for i, ref in enumerate(refs)}
        rows: list[dict[str, Any] | None] = [None] * len(refs)
        pending = list(refs)
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                rows[index[ref]] = ray.get(ref)
                advance(1)
        return [r for r in rows if r is not None]
    finally:
        ray.shutdown()


def write_rows(rows: Sequence[dict[str, Any]], out: Path) -> None:
    """CSV, or Parquet when ``out`` ends in ``.parquet`` (needs pyarrow)."""
    if out.suffix == ".parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise ValidationError(
                "twin.parquet_unavailable",
                "writing Parquet needs pyarrow (pip install pyarrow); or write .csv",
                {"out": ".csv"},
            ) from exc
        pq.write_table(pa.Table.from_pylist(list(rows)), out)
        return
    columns = list(rows[0]) if rows else []
    text = write_csv(([row.get(c) for c in columns] for row in rows), columns)
    out.write_text(text, encoding="utf-8", newline="")


def sweep_chart(points: Sequence[dict[str, Any]], keys: Sequence[str], out: Path) -> None:
    """NPV mean (bars) and P5 (markers) per grid point, with P(loss) on a second axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["\n".join(f"{k.split('.')[-1]}={p[k]}" for k in keys) or "base" for p in points]
    x = list(range(len(points)))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(points) + 2), 5))
    ax.bar(x, [p["npv_mean"] / 1e6 for p in points], color="tab:blue", label="NPV mean")
    ax.plot(x, [p["npv_p5"] / 1e6 for p in points], "v", color="tab:red", label="NPV P5")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("NPV (M CNY)")
    ax.set_xticks(x, labels, fontsize=8)
    twin = ax.twinx()
    twin.plot(x, [100 * p["probability_of_loss"] for p in points], "o-", color="tab:orange")
    twin.set_ylabel("P(loss) (%)", color="tab:orange")
    twin.set_ylim(0, 100)
    ax.legend(loc="upper left")
    ax.set_title(f"twin sweep: {len(points)} points × {points[0]['paths']} paths")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
