"""Charts for the CLI (matplotlib, Agg backend): cash flows, tornado, grid, Monte Carlo,
placement curves.

matplotlib is the optional ``[charts]`` extra and is imported only when a chart is drawn
(:func:`pyplot`); without it ``--chart`` fails with the coded error ``cli.charts_missing``.

Owns drawing only: functions take the values the economics engine returned and a path, write a
PNG, and return nothing. Nothing here computes economics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from suanli.core.errors import SuanliError

MILLION = 1e6


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend; a coded error when the extra is missing."""
    try:
        import matplotlib
    except ModuleNotFoundError as exc:
        raise SuanliError(
            "cli.charts_missing",
            "charts need matplotlib, which is not installed: pip install 'suanli[charts]'",
            {"extra": "charts"},
        ) from exc
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def cumulative_cash_flow(
    months: Sequence[int],
    cumulative: Sequence[float],
    discounted: Sequence[float],
    static_payback: float | None,
    dynamic_payback: float | None,
    title: str,
    out: Path,
    currency: str = "CNY",
) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 5))
    ax.plot(months, np.asarray(cumulative) / MILLION, label="cumulative cash flow")
    ax.plot(months, np.asarray(discounted) / MILLION, "--", label="discounted cumulative")
    ax.axhline(0.0, color="black", linewidth=0.8)
    for value, label, color in (
        (static_payback, "static payback", "tab:green"),
        (dynamic_payback, "dynamic payback", "tab:orange"),
    ):
        if value is not None:
            ax.axvline(value, color=color, linestyle=":", label=f"{label}: {value:.1f} months")
    ax.set_xlabel("month")
    ax.set_ylabel(f"M {currency}")
    ax.set_title(title)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def tornado(
    bars: Sequence[Mapping[str, object]], base: float | None, metric: str, out: Path
) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(bars) + 1.5))
    names = [str(b["input"]) for b in bars][::-1]
    base_v = 0.0 if base is None else base
    for i, b in enumerate(bars[::-1]):
        for key, color in (("low_metric", "tab:red"), ("high_metric", "tab:blue")):
            v = b[key]
            if isinstance(v, float | int):
                ax.barh(i, float(v) - base_v, left=base_v, color=color, alpha=0.7)
    ax.set_yticks(range(len(names)), names)
    ax.axvline(base_v, color="black", linewidth=0.8)
    ax.set_xlabel(f"{metric} (red: input -delta, blue: input +delta)")
    ax.set_title(f"Tornado: {metric}")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def grid_heatmap(
    x: str,
    xs: Sequence[float],
    y: str,
    ys: Sequence[float],
    values: Sequence[Sequence[float | None]],
    metric: str,
    out: Path,
) -> None:
    data = np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 6))
    im = ax.imshow(data, origin="lower", aspect="auto", cmap="RdYlGn")
    ax.set_xticks(range(len(xs)), [f"{v:g}" for v in xs], rotation=45)
    ax.set_yticks(range(len(ys)), [f"{v:g}" for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    for i in range(data.shape[0]):
        for j in range(data.shape[1]):
            if np.isfinite(data[i, j]):
                ax.text(
                    j,
                    i,
                    f"{data[i, j] / MILLION:.0f}M"
                    if abs(data[i, j]) > 1e5
                    else f"{data[i, j]:.2g}",
                    ha="center",
                    va="center",
                    fontsize=7,
                )
    fig.colorbar(im, ax=ax, label=metric)
    ax.set_title(f"{metric}: {y} x {x}")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def montecarlo(
    npv: NDArray[np.float64],
    months: NDArray[np.float64],
    fan: Mapping[str, NDArray[np.float64]],
    title: str,
    out: Path,
    currency: str = "CNY",
) -> None:
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    left.hist(npv / MILLION, bins=60, color="tab:blue", alpha=0.8)
    left.axvline(0.0, color="black", linewidth=0.8)
    left.set_xlabel(f"NPV (M {currency})")
    left.set_ylabel("paths")
    left.set_title(f"NPV distribution, P(NPV<0) = {float(np.mean(npv < 0)):.1%}")
    right.fill_between(
        months, fan["p10"] / MILLION, fan["p90"] / MILLION, alpha=0.3, label="P10-P90"
    )
    right.plot(months, fan["p50"] / MILLION, label="P50")
    right.axhline(0.0, color="black", linewidth=0.8)
    right.set_xlabel("month")
    right.set_ylabel(f"cumulative cash flow (M {currency})")
    right.set_title("cumulative cash flow fan")
    right.legend(loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def placement_chart(
    medians: Mapping[str, Sequence[float | None]], out: Path, title: str = ""
) -> None:
    """GPU allocation ratio against arrived workload, one line per policy (like FGD Fig. 9a)."""
    plt = pyplot()
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
