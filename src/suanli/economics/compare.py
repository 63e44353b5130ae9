"""Side-by-side comparison of scenarios, typically the three business forms on the same capital.

Owns :func:`compare`: one deterministic evaluation per scenario and the rows of the comparison
table (the same headline metrics for each). The bundled ``compare-*`` scenarios use the same
100 H800 servers (214 M CNY) for bare-metal leasing and an intelligent computing center (which
adds a cluster network on top), and put the same 214 M CNY into an investment with a
performance commitment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from suanli.economics.evaluate import Evaluation, evaluate
from suanli.economics.scenario import Scenario

COMPARE_KEYS = (
    "name",
    "kind",
    "total_capex",
    "total_revenue",
    "total_net_income",
    "npv",
    "irr_annual",
    "static_payback_months",
    "dynamic_payback_months",
    "gross_margin",
    "net_margin",
    "breakeven_occupancy",
    "breakeven_rent",
    "breakeven_rent_unit",
)
COMPARE_SCENARIOS = ("compare-bare-metal", "compare-computing-center", "compare-investment")


def compare(scenarios: Sequence[Scenario]) -> list[Evaluation]:
    """Evaluate each scenario (same order)."""
    return [evaluate(s) for s in scenarios]


def compare_rows(evaluations: Sequence[Evaluation]) -> list[dict[str, Any]]:
    """One row of headline metrics per evaluation."""
    rows = []
    for e in evaluations:
        summary = e.summary()
        rows.append({k: summary[k] for k in COMPARE_KEYS})
    return rows
