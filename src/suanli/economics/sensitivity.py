"""Sensitivity: one input at a time (tornado) and two-way grids, over any numeric input.

Owns the variation of inputs addressed by dotted path (``form.rent_per_server_month``,
``fleet.unit_price``; :func:`~suanli.economics.loader.numeric_inputs` lists them). Every
varied scenario is re-validated, so a variation that breaks an invariant is an error naming the
input. Tornado variations are +/- ``delta`` (relative) around the base, clamped into the valid
range of fractions and occupancy ceilings (a rate whose base is 0, such as no price decline,
goes from 0 to ``delta`` absolute); grids take explicit values.

Metrics: any numeric key of :meth:`Evaluation.summary` (``npv``, ``irr_annual``,
``static_payback_months``, ``net_margin``, ...). Break-even metrics cost a root search per point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from suanli.core.errors import ValidationError
from suanli.economics.evaluate import evaluate
from suanli.economics.loader import get_path, with_overrides
from suanli.economics.scenario import Investment, Scenario

DEFAULT_INPUTS = {
    "bare_metal": (
        "fleet.unit_price",
        "form.rent_per_server_month",
        "form.occupancy",
        "form.price_decline_annual",
        "opex.power_price_kwh",
        "opex.pue",
        "opex.cabinet_fee",
        "opex.om_pct_capex_annual",
        "opex.staff_per_month",
        "discount_rate_annual",
    ),
    "computing_center": (
        "fleet.unit_price",
        "form.gpu_hour_price",
        "form.utilization",
        "form.price_decline_annual",
        "opex.power_price_kwh",
        "opex.pue",
        "form.platform_cost_per_month",
        "opex.om_pct_capex_annual",
        "opex.staff_per_month",
        "discount_rate_annual",
    ),
    "investment": (
        "form.amount",
        "form.committed_profit_annual",
        "form.shortfall_probability",
        "form.shortfall_pct",
        "form.exit_value",
        "discount_rate_annual",
    ),
}
_BREAKEVEN = frozenset({"breakeven_occupancy", "breakeven_rent"})
_RATE_SUFFIXES = ("_annual", "_pct", "_share", "_probability")
_FRACTION_SUFFIXES = ("_pct", "_share", "_fraction", "occupancy", "utilization", "_factor")


@dataclass(frozen=True, slots=True)
class TornadoBar:
    input: str
    base_value: float
    low_value: float
    high_value: float
    low_metric: float | None
    high_metric: float | None

    @property
    def swing(self) -> float:
        if self.low_metric is None or self.high_metric is None:
            return float("inf")
        return abs(self.high_metric - self.low_metric)


@dataclass(frozen=True, slots=True)
class Tornado:
    metric: str
    delta: float
    base_metric: float | None
    bars: list[TornadoBar]  # widest swing first

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "delta": self.delta,
            "base_metric": self.base_metric,
            "bars": [
                {s: getattr(b, s) for s in TornadoBar.__slots__} | {"swing": _finite(b.swing)}
                for b in self.bars
            ],
        }


@dataclass(frozen=True, slots=True)
class Grid:
    metric: str
    x: str
    x_values: list[float]
    y: str
    y_values: list[float]
    values: list[list[float | None]]  # values[i][j] at y_values[i], x_values[j]

    def to_dict(self) -> dict[str, Any]:
        return {s: getattr(self, s) for s in Grid.__slots__}


def _finite(v: float) -> float | None:
    return None if v == float("inf") else v


def metric_of(scenario: Scenario, metric: str) -> float | None:
    """``metric`` of ``scenario``'s deterministic evaluation (None where it does not apply)."""
    summary = evaluate(scenario, with_breakeven=metric in _BREAKEVEN).summary()
    if metric not in summary or isinstance(summary[metric], str | bool | list):
        raise ValidationError(
            "sensitivity.unknown_metric", f"no numeric metric {metric!r}", {"metric": metric}
        )
    value = summary[metric]
    return None if value is None else float(value)


def _clamp(scenario: Scenario, path: str, value: float, base: Any) -> float | int:
    leaf = path.rsplit(".", 1)[-1]
    if leaf in ("occupancy", "utilization") and not isinstance(scenario.form, Investment):
        value = min(value, scenario.form.ceiling())
    elif leaf.endswith(_FRACTION_SUFFIXES) or leaf in ("load_factor", "stake"):
        value = min(value, 1.0)
    if leaf == "pue":
        value = max(value, 1.0)
    if isinstance(base, int):
        return max(1, round(value)) if leaf in ("count", "term_months") else round(value)
    return value


def tornado(
    scenario: Scenario,
    inputs: Sequence[str] | None = None,
    delta: float = 0.2,
    metric: str = "npv",
) -> Tornado:
    """Vary each input by +/- ``delta`` alone; bars sorted by the width of the metric swing."""
    if not 0.0 < delta < 1.0:
        raise ValidationError(
            "sensitivity.invalid_delta", "delta must be in (0, 1)", {"delta": delta}
        )
    names = list(inputs) if inputs else list(DEFAULT_INPUTS[scenario.form.kind])
    bars = []
    for name in names:
        base = get_path(scenario, name)
        if not isinstance(base, int | float) or isinstance(base, bool):
            raise ValidationError(
                "sensitivity.not_numeric", f"input {name!r} is not numeric", {"input": name}
            )
        if base == 0 and name.endswith(_RATE_SUFFIXES):
            lo, hi = 0.0, _clamp(scenario, name, delta, base)  # a zero rate: try +delta absolute
        else:
            lo = _clamp(scenario, name, base * (1.0 - delta), base)
            hi = _clamp(scenario, name, base * (1.0 + delta), base)
        bars.append(
            TornadoBar(
                input=name,
                base_value=float(base),
                low_value=float(lo),
                high_value=float(hi),
                low_metric=metric_of(with_overrides(scenario, {name: lo}), metric),
                high_metric=metric_of(with_overrides(scenario, {name: hi}), metric),
            )
        )
    bars.sort(key=lambda b: -b.swing if b.swing != float("inf") else float("-inf"))
    return Tornado(metric, delta, metric_of(scenario, metric), bars)


def grid(
    scenario: Scenario,
    x: str,
    x_values: Sequence[float],
    y: str,
    y_values: Sequence[float],
    metric: str = "npv",
) -> Grid:
    """``metric`` over the two-way grid ``x`` x ``y`` (e.g. rent x occupancy -> NPV)."""
    for name in (x, y):
        get_path(scenario, name)
    values = [
        [metric_of(with_overrides(scenario, {x: xv, y: yv}), metric) for xv in x_values]
        for yv in y_values
    ]
    return Grid(metric, x, [float(v) for v in x_values], y, [float(v) for v in y_values], values)
