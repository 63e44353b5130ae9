"""Charts of `suanli infer` (matplotlib, Agg): provisioned capacity against demand over a day.

Kept apart from :mod:`suanli.cli.charts` so the inference CLI can import matplotlib lazily.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt


def capacity_vs_demand(
    demand: Sequence[float], capacity: Sequence[float], title: str, path: Path, unit: str = "req/s"
) -> None:
    hours = list(range(len(demand)))
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.step(hours, capacity, where="post", label="provisioned capacity", color="tab:blue")
    ax.step(hours, demand, where="post", label="demand (hourly mean)", color="tab:orange")
    ax.fill_between(
        hours, demand, capacity, step=None, alpha=0.15, color="tab:green", label="headroom / valley"
    )
    ax.set_xlabel("hour of day (UTC+8)")
    ax.set_ylabel(unit)
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
