"""The purchase plan's chart (matplotlib, Agg): the efficient frontier of expected NPV against
risk (out of sample) with the two baselines, and the chosen plan's orders by month and SKU.
Drawing only; uses :func:`suanli.cli.charts.pyplot`, so matplotlib loads only for ``--chart``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from suanli.cli.charts import MILLION, pyplot


def _risk(fig: dict[str, float], measure: str) -> float:
    return fig["p_loss"] * 100.0 if measure == "p_loss" else -fig["cvar"] / MILLION


def plan_chart(plan: dict[str, Any], out: Path) -> None:
    plt = pyplot()
    measure = plan["risk"]["measure"]
    currency = plan["currency"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    points = sorted(plan["frontier"], key=lambda p: _risk(p["out_of_sample"], measure))
    xs = [_risk(p["out_of_sample"], measure) for p in points]
    ys = [p["out_of_sample"]["expected_npv"] / MILLION for p in points]
    left.plot(xs, ys, "o-", label="frontier (out of sample)")
    for key, marker in (("chosen", "*"), ("buy_everything_now", "s"), ("buy_nothing_more", "D")):
        p = plan[key]
        left.plot(
            [_risk(p["out_of_sample"], measure)],
            [p["out_of_sample"]["expected_npv"] / MILLION],
            marker,
            markersize=12,
            label=p["label"],
        )
    left.axhline(0.0, color="black", linewidth=0.8)
    alpha = plan["risk"]["cvar_alpha"]
    left.set_xlabel("P(loss) %" if measure == "p_loss" else f"CVaR {alpha:.0%} loss (M {currency})")
    left.set_ylabel(f"expected NPV (M {currency})")
    left.set_title("expected NPV against risk")
    left.legend(loc="best")
    left.grid(alpha=0.3)
    orders = plan["chosen"]["orders"]
    skus = sorted({o["sku"] for o in orders})
    months = np.arange(plan["decision_months"])
    bottom = np.zeros(months.size)
    for sku in skus:
        counts = np.zeros(months.size)
        for o in orders:
            if o["sku"] == sku:
                counts[o["month"]] += o["count"]
        right.bar(months, counts, bottom=bottom, label=sku)
        bottom += counts
    right.set_xlim(-0.6, months.size - 0.4)
    right.set_xlabel("order month")
    right.set_ylabel("servers ordered")
    right.set_title("chosen plan" + ("" if orders else ": buy nothing more"))
    if skus:
        right.legend(loc="best")
    fig.suptitle(plan["name"])
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
