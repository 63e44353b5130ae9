"""Running a twin: one or many seeded demand paths, their monthly tables and metrics.

Owns :func:`run_twin` and :class:`TwinRun`. Path ``i`` uses seed ``seed + i`` for all of its
random streams, so path ``i`` of a run is reproducible on its own, and two scenarios run with the
same seed face the same demand (common random numbers). ``probability_of_loss`` is defined as
in the economics Monte Carlo: the share of paths whose net income over the horizon is negative;
``probability_npv_negative`` is given beside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from suanli.simulation.twin.economics import Metrics, metrics_of, project_book
from suanli.simulation.twin.inference import day_figures
from suanli.simulation.twin.leasebook import BookResult, MonthRow, simulate_book
from suanli.simulation.twin.scenario import Inference, TwinScenario

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True, slots=True)
class TwinPath:
    seed: int
    book: BookResult
    metrics: Metrics
    fcf: list[float]
    cumulative: list[float]


@dataclass(frozen=True, slots=True)
class TwinRun:
    scenario: str
    seed: int
    paths: list[TwinPath]
    spec: Inference | None = None  # the scenario's inference section (its day figures)

    def monthly(self, path: int = 0) -> list[dict[str, Any]]:
        """Monthly rows of one path (money as strings of exact Decimals, net of VAT)."""
        p = self.paths[path]
        return [
            _row(m, fcf, cum)
            for m, fcf, cum in zip(p.book.months, p.fcf, p.cumulative, strict=True)
        ]

    def summary(self) -> dict[str, Any]:
        npv = np.array([p.metrics.npv for p in self.paths])
        net = np.array([p.metrics.total_net_income for p in self.paths])
        payback = [p.metrics.static_payback_months for p in self.paths]
        occ = np.array([[m.occupancy for m in p.book.months] for p in self.paths])
        cum = np.array([p.cumulative for p in self.paths])
        first = self.paths[0]
        years = max(1, len(first.book.months) - 1) / 12.0
        billed = np.array([float(sum(m.billed for m in p.book.months)) for p in self.paths])
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "paths": len(self.paths),
            "metrics": first.metrics.as_dict() if len(self.paths) == 1 else None,
            "npv_mean": float(npv.mean()),
            "npv_quantiles": _quantiles(npv),
            "probability_of_loss": float(np.mean(net < 0.0)),
            "probability_npv_negative": float(np.mean(npv < 0.0)),
            "never_pays_back": float(np.mean([p is None for p in payback])),
            "mean_occupancy": float(occ[:, 1:].mean()) if occ.shape[1] > 1 else 0.0,
            "billed_per_year_mean": float(billed.mean()) / years,
            "pool_utilization_mean": _pool_utilization(self.paths),
            "inference": _inference(self.paths, self.spec),
            "delivered_servers": [sum(d.count for d in p.book.schedule) for p in self.paths],
            "fan": {
                "occupancy": {str(q): np.quantile(occ, q, axis=0).tolist() for q in QUANTILES},
                "cumulative_cash": {
                    str(q): np.quantile(cum, q, axis=0).tolist() for q in QUANTILES
                },
            },
        }


def _pool_utilization(paths: list[TwinPath]) -> float | None:
    """Mean utilisation of the pool over the months it ran, across paths (None: no pool)."""
    values = [m.pool.utilization for p in paths for m in p.book.months if m.pool.servers > 0]
    return float(np.mean(values)) if values else None


def _inference(paths: list[TwinPath], spec: Inference | None) -> dict[str, Any] | None:
    """The inference service over the horizon (means across paths) and its first day."""
    months = [[m.inference for m in p.book.months if m.inference.servers > 0] for p in paths]
    if spec is None or not any(months):
        return None
    first = next(m for ms in months for m in ms)
    day = day_figures(spec, first.servers)
    years = max(1, len(paths[0].book.months) - 1) / 12.0
    demand = sum(m.demand_tokens for ms in months for m in ms)
    served = sum(m.served_tokens for ms in months for m in ms)
    per_path = len(paths) * years

    def total(attr: str) -> float:
        return float(sum(getattr(m, attr) for ms in months for m in ms)) / per_path

    pools = [m.pool for p in paths for m in p.book.months if m.pool.valley_servers > 0]
    if spec.valley == "pool":  # the valley's share of the pool, by its share of the capacity
        lent_hours = sum(m.valley_servers * m.hours_in_month for m in pools)
        attributed = sum(
            float(m.revenue) * m.valley_servers / (m.servers + m.lent_servers + m.valley_servers)
            for m in pools
        )
        busy = sum(m.utilization * m.valley_servers * m.hours_in_month for m in pools)
        valley = {
            "valley_revenue_per_year": attributed / per_path,
            "valley_lent_node_hours_per_year": lent_hours / per_path,
            "valley_lent_gpu_hours_per_year": lent_hours * spec.gpus_per_server / per_path,
            "training_gpu_hours_per_year": busy * spec.gpus_per_server / per_path,
        }
    else:
        valley = {
            "valley_revenue_per_year": total("valley_revenue"),
            "training_gpu_hours_per_year": total("training_gpu_hours"),
        }
    out: dict[str, Any] = {
        "currency": spec.currency,
        "valley": spec.valley,
        "servers": first.servers,
        "slo_attainment": served / demand if demand else None,
        "token_revenue_per_year": total("revenue"),
        "valley_node_hours_per_year": total("valley_node_hours"),
        **valley,
        "day": {
            "theoretical_revenue": str(day.theoretical_revenue),
            "avg_inference_nodes": day.avg_inference_nodes,
            "peak_inference_nodes": day.peak_inference_nodes,
            "valley_node_hours": day.valley_node_hours,
            "cost": None if day.cost is None else str(day.cost),
            "hourly_nodes": list(day.hourly_nodes),
        },
    }
    if spec.currency == "USD":  # the names DeepSeek's published day is checked under
        out["day"]["theoretical_revenue_usd"] = out["day"]["theoretical_revenue"]
        out["day"]["cost_usd"] = out["day"]["cost"]
    return out


def _quantiles(x: np.ndarray) -> dict[str, float]:
    return {str(q): float(np.quantile(x, q)) for q in QUANTILES}


def _row(m: MonthRow, fcf: float, cumulative: float) -> dict[str, Any]:
    return {
        "month": m.month,
        "period": m.period,
        "active_servers": m.active_servers,
        "leased_servers": m.leased_servers,
        "occupancy": m.occupancy,
        "list_rent": str(m.list_rent),
        "rent": str(m.rent),
        "sla_credits": str(m.sla_credits),
        "billed": str(m.billed),
        "vat": str(m.vat),
        "signed": m.signed,
        "renewed": m.renewed,
        "ended": m.ended,
        "lost_price": m.lost_price,
        "lost_capacity": m.lost_capacity,
        "downtime_hours": m.downtime_hours,
        "bare_metal_occupancy": m.bare_metal_occupancy,
        "pool_servers": m.pool.servers,
        "pool_lent_servers": m.pool.lent_servers,
        "pool_utilization": m.pool.utilization,
        "pool_jobs": m.pool.jobs,
        "pool_gpu_hours": {k: str(v / 3600) for k, v in m.pool.gpu_seconds.items()},
        "pool_revenue": str(m.pool.revenue),
        "pool_vat": str(m.pool.vat),
        "inference_servers": m.inference.servers,
        "inference_node_hours": m.inference.node_hours,
        "inference_peak_nodes": m.inference.peak_nodes,
        "inference_slo_attainment": m.inference.slo_attainment,
        "inference_revenue": str(m.inference.revenue),
        "inference_vat": str(m.inference.vat),
        "valley_node_hours": m.inference.valley_node_hours,
        "valley_training_gpu_hours": str(m.inference.training_gpu_hours),
        "valley_revenue": str(m.inference.valley_revenue),
        "valley_vat": str(m.inference.valley_vat),
        "fcf": fcf,
        "cumulative": cumulative,
    }


def run_path(sc: TwinScenario, seed: int) -> TwinPath:
    book = simulate_book(sc, seed)
    flows = project_book(sc.economics, book)
    return TwinPath(
        seed, book, metrics_of(flows), flows.fcf[0].tolist(), flows.cumulative[0].tolist()
    )


def run_twin(
    sc: TwinScenario,
    *,
    seed: int = 0,
    paths: int = 1,
    progress: Callable[[int], None] | None = None,
) -> TwinRun:
    """``paths`` seeded paths of ``sc``; ``progress(i)`` is called after each path."""
    out = []
    for i in range(paths):
        out.append(run_path(sc, seed + i))
        if progress is not None:
            progress(i + 1)
    return TwinRun(sc.name, seed, out, sc.twin.inference)
