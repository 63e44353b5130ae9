"""The twin's chart (matplotlib, Agg): occupancy and cumulative cash flow by month, as a fan
over the demand paths (P5–P95, P25–P75, median). Drawing only; imported by `suanli twin run
--chart` when it is asked for, so the CLI does not load matplotlib otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np


def _fan(ax: Any, bands: dict[str, list[float]], scale: float, label: str) -> None:
    months = np.arange(len(bands["0.5"]))
    q = {k: np.asarray(v) * scale for k, v in bands.items()}
    ax.fill_between(months, q["0.05"], q["0.95"], alpha=0.2, color="tab:blue", label="P5–P95")
    ax.fill_between(months, q["0.25"], q["0.75"], alpha=0.35, color="tab:blue", label="P25–P75")
    ax.plot(months, q["0.5"], color="tab:blue", label=f"median {label}")
    ax.set_xlabel("month")
    ax.grid(alpha=0.3)


def twin_chart(summary: dict[str, Any], out: Path) -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    _fan(left, summary["fan"]["occupancy"], 100.0, "occupancy")
    left.set_ylim(0, 100)
    left.set_ylabel("occupancy (% of servers leased or busy in the pool)")
    left.set_title("occupancy")
    left.legend(loc="lower right")
    _fan(right, summary["fan"]["cumulative_cash"], 1e-6, "cumulative cash")
    right.axhline(0.0, color="black", linewidth=0.8)
    right.set_ylabel("cumulative free cash flow (M CNY)")
    right.set_title(
        f"cash: P(loss) {summary['probability_of_loss']:.1%}, NPV mean {summary['npv_mean'] / 1e6:,.1f} M CNY"
    )
    right.legend(loc="lower right")
    fig.suptitle(f"twin {summary['scenario']}: {summary['paths']} path(s), seed {summary['seed']}")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)


def monthly_chart(monthly: list[dict[str, Any]], out: Any) -> None:
    """Stacked monthly billed revenue (bare-metal rent after SLA credits, cloud pool) and free
    cash flow of one path from month 1 (month 0's capex would flatten the scale; the fan chart
    shows it in the cumulative cash); ``out`` is a path or a binary file object."""
    monthly = monthly[1:]
    months = np.array([r["month"] for r in monthly])
    rent = np.array([float(r["rent"]) + float(r["sla_credits"]) for r in monthly]) / 1e6
    pool = np.array([float(r.get("pool_revenue", 0)) for r in monthly]) / 1e6
    fcf = np.array([r["fcf"] for r in monthly]) / 1e6
    fig, ax = plt.subplots(figsize=(13, 4.5))
    ax.bar(months, rent, color="tab:blue", label="bare-metal rent (after SLA credits)")
    ax.bar(months, pool, bottom=rent, color="tab:orange", label="cloud pool (GPU-hours)")
    ax.plot(months, fcf, color="black", linewidth=1.2, label="free cash flow")
    ax.axhline(0.0, color="black", linewidth=0.6)
    ax.set_xlabel("month")
    ax.set_ylabel("M CNY per month, net of VAT")
    ax.set_title("Billed revenue and free cash flow by month (path 0; month 0 capex not shown)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=100, format="png")
    plt.close(fig)
