"""Capacity planning: the cheapest (GPU, parallel degree) per SKU meeting an SLO over a day.

Owns the planner behind ``suanli infer plan``. For each GPU type and each parallel degree on
which the model fits, it finds by simulation the highest request rate one replica sustains
within the SLO (bisection on Poisson traffic with the profile's fitted token lengths), then
provisions ``ceil(demand(h) / capacity)`` replicas for each hour of the daily profile. Cost is
GPU-hours x price; it is split between input and output tokens in proportion to the replica
time spent prefilling and decoding. The night valley is the node-hours (8 GPUs) below the
day's peak provisioning.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from suanli.core.catalog import GpuModel
from suanli.core.errors import ValidationError
from suanli.inference.models import LlmModel, Precision
from suanli.inference.replica import Replica
from suanli.simulation.inference.engine import EngineConfig, simulate
from suanli.simulation.inference.metrics import Slo, summarize
from suanli.simulation.inference.workload import LengthFit, poisson

DENSE_DEGREES = (1, 2, 4, 8)
MOE_DEGREES = (16, 32, 64)


@dataclass(frozen=True, slots=True)
class PlanRequest:
    model: LlmModel
    fit: LengthFit
    peak_rps: float
    shape: tuple[float, ...]  # 24 hourly values, peak 1
    slo: Slo
    prefix_hit_rate: float = 0.0
    probe_seconds: float = 300.0
    seed: int = 0


@dataclass(frozen=True, slots=True)
class SkuPlan:
    gpu: str
    gpus_per_replica: int
    precision: str
    replica_capacity_rps: float
    hourly_replicas: tuple[int, ...]
    gpu_hours_per_day: float
    cost_per_day: float
    cost_per_m_input: float
    cost_per_m_output: float
    valley_node_hours: float
    gpu_hour_price: float

    def covers(self, price_in: float, price_out: float) -> bool:
        return price_in >= self.cost_per_m_input and price_out >= self.cost_per_m_output


def _precision(gpu: GpuModel) -> Precision:
    return Precision.FP8 if gpu.fp8_dense_tflops is not None else Precision.BF16


def _replicas(model: LlmModel, gpu: GpuModel) -> list[Replica]:
    out: list[Replica] = []
    p = _precision(gpu)
    for n in MOE_DEGREES if model.is_moe else DENSE_DEGREES:
        try:
            out.append(Replica(model, gpu, n, p, p))
        except ValidationError:
            continue
    return out


def replica_capacity(r: Replica, req: PlanRequest) -> float:
    """Highest Poisson request rate (req/s) one replica serves within the SLO (0 if none)."""
    rng_seed = req.seed
    mean_out = float(np.exp(req.fit.output_mu + req.fit.output_sigma**2 / 2))
    ctx = float(np.exp(req.fit.prompt_mu)) + mean_out / 2
    batch = max(1, r.max_batch_under_tpot(req.slo.tpot_p99_s, ctx))
    guess = batch / (mean_out * r.tpot(batch, ctx) + batch * r.prefill_time(ctx))

    def ok(rate: float) -> bool:
        w = poisson(req.fit, rate, req.probe_seconds, np.random.default_rng(rng_seed))
        if len(w) < 2:
            return True
        res = simulate(w, r, EngineConfig(replicas=1, prefix_hit_rate=req.prefix_hit_rate))
        return summarize(res, req.slo, r.gpus, 0.0).meets_slo

    lo, hi = 0.0, guess * 2.0
    if not ok(hi / 64):
        return 0.0
    lo = hi / 64
    for _ in range(7):
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo


def plan_sku(
    gpu: GpuModel,
    price: float,
    req: PlanRequest,
    progress: Callable[[str], None] | None = None,
) -> SkuPlan | None:
    """The cheapest configuration on ``gpu`` for the day, or None if the model never fits
    or no replica meets the SLO."""
    best: SkuPlan | None = None
    for r in _replicas(req.model, gpu):
        if progress:
            progress(f"{gpu.key} x{r.gpus}")
        cap = replica_capacity(r, req)
        if cap <= 0:
            continue
        plan = _day(r, cap, price, req)
        if best is None or plan.cost_per_day < best.cost_per_day:
            best = plan
    return best


def _day(r: Replica, cap: float, price: float, req: PlanRequest) -> SkuPlan:
    demand = [req.peak_rps * s for s in req.shape]
    hourly = tuple(max(1, math.ceil(d / cap)) for d in demand)
    gpu_hours = sum(hourly) * r.gpus
    cost = gpu_hours * price
    mean_in = float(np.exp(req.fit.prompt_mu + req.fit.prompt_sigma**2 / 2))
    mean_out = float(np.exp(req.fit.output_mu + req.fit.output_sigma**2 / 2))
    requests = sum(demand) * 3600
    ctx = mean_in + mean_out / 2
    batch = max(1, r.max_batch_under_tpot(req.slo.tpot_p99_s, ctx))
    cached = mean_in * req.prefix_hit_rate
    t_in = r.prefill_time(mean_in - cached, cached)
    t_out = mean_out * r.tpot(batch, ctx) / batch
    share_in = t_in / (t_in + t_out)
    peak = max(hourly)
    valley = sum(peak - h for h in hourly) * r.gpus / 8
    return SkuPlan(
        gpu=r.gpu.key,
        gpus_per_replica=r.gpus,
        precision=r.precision.value,
        replica_capacity_rps=cap,
        hourly_replicas=hourly,
        gpu_hours_per_day=float(gpu_hours),
        cost_per_day=cost,
        cost_per_m_input=cost * share_in / max(requests * mean_in, 1) * 1e6,
        cost_per_m_output=cost * (1 - share_in) / max(requests * mean_out, 1) * 1e6,
        valley_node_hours=valley,
        gpu_hour_price=price,
    )


def parse_slo(text: str) -> Slo:
    """``ttft_p99=2s,tpot_p99=100ms`` -> :class:`Slo` (units s or ms)."""
    values: dict[str, float] = {}
    for part in text.split(","):
        key, _, raw = part.strip().partition("=")
        raw = raw.strip().lower()
        try:
            if raw.endswith("ms"):
                seconds = float(raw[:-2]) / 1000
            elif raw.endswith("s"):
                seconds = float(raw[:-1])
            else:
                seconds = float(raw)
        except ValueError:
            seconds = -1.0
        if key.strip() not in ("ttft_p99", "tpot_p99") or seconds <= 0:
            raise ValidationError(
                "slo.bad_spec",
                f"cannot read SLO term {part!r}",
                {"slo": "ttft_p99=<n>s|ms,tpot_p99=<n>s|ms"},
            )
        values[key.strip()] = seconds
    return Slo(values.get("ttft_p99", 2.0), values.get("tpot_p99", 0.1))


def demand_series(peak_rps: float, shape: Sequence[float]) -> list[float]:
    return [peak_rps * s for s in shape]
