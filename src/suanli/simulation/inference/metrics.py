"""Serving metrics of a simulation: latency percentiles, SLO attainment, goodput and cost.

TTFT is first token minus arrival; TPOT is (finish - first token) / (output tokens - 1), over
requests with more than one output token. A request meets the SLO when its TTFT and its TPOT
are both within the targets; goodput counts only those. GPU-hours are provisioned
replica-hours x GPUs per replica; cost per million tokens divides their cost by the tokens
served (input tokens include prefix-cache hits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from suanli.core.errors import ValidationError
from suanli.simulation.inference.engine import SimResult


@dataclass(frozen=True, slots=True)
class Slo:
    ttft_p99_s: float = 2.0
    tpot_p99_s: float = 0.1

    def __post_init__(self) -> None:
        if self.ttft_p99_s <= 0 or self.tpot_p99_s <= 0:
            raise ValidationError(
                "slo.invalid", "SLO targets must be positive", {"ttft": ">0", "tpot": ">0"}
            )


@dataclass(frozen=True, slots=True)
class Summary:
    requests: int
    ttft_p50_s: float
    ttft_p90_s: float
    ttft_p99_s: float
    tpot_p50_s: float
    tpot_p90_s: float
    tpot_p99_s: float
    mean_queue_wait_s: float
    slo_attainment: float
    goodput_rps: float
    goodput_tokens_s: float
    input_tokens: int
    output_tokens: int
    gpu_hours: float
    cost_per_m_tokens: float
    cost_per_m_output_tokens: float
    meets_slo: bool

    def as_dict(self) -> dict[str, float | int | bool]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def summarize(res: SimResult, slo: Slo, gpus_per_replica: int, gpu_hour_price: float) -> Summary:
    n = len(res.arrival)
    if n == 0:
        raise ValidationError("metrics.empty", "no requests were simulated", {})
    ttft = res.first_token - res.arrival
    multi = res.output > 1
    tpot = np.zeros(n)
    tpot[multi] = (res.finish - res.first_token)[multi] / (res.output[multi] - 1)
    ok = (ttft <= slo.ttft_p99_s) & (tpot <= slo.tpot_p99_s)
    span = max(res.end_s, 1e-9)
    gpu_hours = res.replica_seconds / 3600.0 * gpus_per_replica
    tokens_in = int(res.prompt.sum())
    tokens_out = int(res.output.sum())
    cost = gpu_hours * gpu_hour_price
    p_ttft = np.percentile(ttft, [50, 90, 99])
    p_tpot = np.percentile(tpot[multi], [50, 90, 99]) if multi.any() else np.zeros(3)
    return Summary(
        requests=n,
        ttft_p50_s=float(p_ttft[0]),
        ttft_p90_s=float(p_ttft[1]),
        ttft_p99_s=float(p_ttft[2]),
        tpot_p50_s=float(p_tpot[0]),
        tpot_p90_s=float(p_tpot[1]),
        tpot_p99_s=float(p_tpot[2]),
        mean_queue_wait_s=float(np.mean(res.admit - res.arrival)),
        slo_attainment=float(ok.mean()),
        goodput_rps=float(ok.sum()) / span,
        goodput_tokens_s=float(res.output[ok].sum()) / span,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        gpu_hours=gpu_hours,
        cost_per_m_tokens=cost / max(tokens_in + tokens_out, 1) * 1e6,
        cost_per_m_output_tokens=cost / max(tokens_out, 1) * 1e6,
        meets_slo=bool(p_ttft[2] <= slo.ttft_p99_s and p_tpot[2] <= slo.tpot_p99_s),
    )
