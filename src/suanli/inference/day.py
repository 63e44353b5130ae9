"""Day-level inference model: a daily demand profile in, autoscaled nodes, revenue, cost out.

Owns :func:`serve_day`, the hook the digital twin (issue 14) will call for its inference
demand, and the bundled ``deepseek-day`` scenario built from DeepSeek's published H800 day
(reference: ../shared/reference/inference-economics.md).

Model. Tokens of the day are spread over the hours in proportion to the profile, at a constant
mix. An hour's node demand is ``input tokens / (3600 x prefill tokens/s per node) + output
tokens / (3600 x decode tokens/s per node)``; the autoscaler provisions
``ceil(demand / target_util)`` nodes for the hour, between ``min_nodes`` and ``max_nodes``.
The published per-node throughputs are averages over the deployed nodes, so they already carry
the serving headroom: the bundled scenario uses ``target_util = 1``. The valley is the node-hours
below the day's peak provisioning, free for training. Money is Decimal: revenue at the per-token
prices, cost at the GPU-hour price, both rounded half up to the cent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from suanli.core.errors import ValidationError
from suanli.core.money import round_money
from suanli.inference.demand import DEEPSEEK_HOURLY_KUSD, DEEPSEEK_SOURCE

MILLION = Decimal(1_000_000)


@dataclass(frozen=True, slots=True)
class DayInputs:
    """Published inputs of an inference day. Prices are per million tokens."""

    input_tokens: int
    cache_hit_tokens: int
    output_tokens: int
    prefill_tokens_per_node_s: float
    decode_tokens_per_node_s: float
    price_cache_hit: Decimal
    price_cache_miss: Decimal
    price_output: Decimal
    gpu_hour_price: Decimal
    gpus_per_node: int = 8
    target_util: float = 1.0
    min_nodes: int = 0
    max_nodes: int | None = None
    currency: str = "USD"
    source: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.cache_hit_tokens <= self.input_tokens or self.output_tokens < 0:
            raise ValidationError(
                "day.bad_tokens",
                "need 0 <= cache_hit_tokens <= input_tokens and output_tokens >= 0",
                {"input_tokens": self.input_tokens, "cache_hit_tokens": self.cache_hit_tokens},
            )
        if min(self.prefill_tokens_per_node_s, self.decode_tokens_per_node_s) <= 0:
            raise ValidationError("day.bad_throughput", "per-node throughputs must be positive", {})
        if not 0 < self.target_util <= 1:
            raise ValidationError(
                "day.bad_target", "target_util must be in (0, 1]", {"target_util": self.target_util}
            )


@dataclass(frozen=True, slots=True)
class DayResult:
    hourly_demand_nodes: tuple[float, ...]
    hourly_nodes: tuple[int, ...]
    theoretical_revenue_usd: Decimal
    cost_usd: Decimal
    avg_inference_nodes: float
    peak_inference_nodes: int
    valley_node_hours: float
    node_hours: int
    margin: float  # (revenue - cost) / cost


def serve_day(profile: Sequence[float], inputs: DayInputs) -> DayResult:
    """Serve one day whose hourly demand is proportional to ``profile`` (24 values >= 0)."""
    if len(profile) != 24 or min(profile) < 0 or sum(profile) <= 0:
        raise ValidationError(
            "day.bad_profile",
            "the demand profile needs 24 non-negative hourly values, not all zero",
            {"profile": f"{len(profile)} values"},
        )
    total = float(sum(profile))
    demand: list[float] = []
    nodes: list[int] = []
    for weight in profile:
        share = weight / total
        need = share * inputs.input_tokens / (3600 * inputs.prefill_tokens_per_node_s)
        need += share * inputs.output_tokens / (3600 * inputs.decode_tokens_per_node_s)
        n = max(inputs.min_nodes, math.ceil(need / inputs.target_util - 1e-9))
        if inputs.max_nodes is not None:
            n = min(n, inputs.max_nodes)
        demand.append(need)
        nodes.append(n)
    miss = inputs.input_tokens - inputs.cache_hit_tokens
    revenue = (
        inputs.cache_hit_tokens * inputs.price_cache_hit
        + miss * inputs.price_cache_miss
        + inputs.output_tokens * inputs.price_output
    ) / MILLION
    node_hours = sum(nodes)
    cost = node_hours * inputs.gpus_per_node * inputs.gpu_hour_price
    peak = max(nodes)
    return DayResult(
        hourly_demand_nodes=tuple(demand),
        hourly_nodes=tuple(nodes),
        theoretical_revenue_usd=round_money(revenue),
        cost_usd=round_money(cost),
        avg_inference_nodes=node_hours / 24,
        peak_inference_nodes=peak,
        valley_node_hours=float(sum(peak - n for n in nodes)),
        node_hours=node_hours,
        margin=float((revenue - cost) / cost) if cost else math.inf,
    )


DEEPSEEK_DAY = DayInputs(
    input_tokens=608_000_000_000,
    cache_hit_tokens=342_000_000_000,
    output_tokens=168_000_000_000,
    prefill_tokens_per_node_s=73_700,
    decode_tokens_per_node_s=14_800,
    price_cache_hit=Decimal("0.14"),
    price_cache_miss=Decimal("0.55"),
    price_output=Decimal("2.19"),
    gpu_hour_price=Decimal("2"),
    source=DEEPSEEK_SOURCE,
)

SCENARIOS: dict[str, tuple[tuple[float, ...], DayInputs]] = {
    "deepseek-day": (DEEPSEEK_HOURLY_KUSD, DEEPSEEK_DAY),
}


def scenario(name: str) -> tuple[tuple[float, ...], DayInputs]:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValidationError(
            "day.unknown_scenario",
            f"unknown day scenario {name!r}",
            {"scenario": sorted(SCENARIOS)},
        ) from None
