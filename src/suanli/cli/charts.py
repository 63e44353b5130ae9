"""Charts drawn by the CLI (matplotlib, Agg backend): never imported by the pure layers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def placement_chart(
    medians: Mapping[str, Sequence[float | None]], out: Path, title: str = ""
) -> None:
    """GPU allocation ratio against arrived workload, one line per policy (like FGD Fig. 9a)."""
    fig, (ax, zoom) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    for name, values in medians.items():
        xs = [x for x, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        for axis in (ax, zoom):
            axis.plot(xs, ys, label=name, linewidth=1.4)
    ax.plot([0, 100], [0, 100], color="grey", linewidth=0.8, linestyle=":", label="ideal")
    ax.set_xlabel("arrived workload (% of GPU capacity)")
    ax.set_ylabel("GPU allocation ratio (%)")
    ax.set_xlim(0, 130)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    zoom.set_xlim(80, 130)
    zoom.set_ylim(80, 100)
    zoom.set_xlabel("arrived workload (%), zoom")
    zoom.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    plt.close(fig)
