"""The twin's inference service: autoscaled token serving, night valleys filled with training.

Owns :func:`simulate_inference` and :class:`InferenceMonth`. The inference day model is the one
of :mod:`suanli.inference.day` (the hook it was written for): a day's tokens spread over the
hours by a profile, an hour's node demand from the per-node prefill and decode throughputs, an
autoscaler provisioning ``ceil(need / target_util)`` nodes. Here the nodes are the
``twin.inference.servers`` the fleet sets aside (after the pool's, capped at what has
arrived), so an hour may need more than there are: the tokens beyond capacity are lost, and
their share is the month's SLO miss. Per grid month ``t >= 1`` (every day of a month alike):

    growth[t]          = (1 + demand_growth_annual) ** ((t - 1) / 12)
    need[h]            = growth × share[h] × (input / (3600 × prefill/s) + output / (3600 × decode/s))
    nodes[h]           = min(servers, max(min_nodes, ceil(need[h] / target_util)))
    served[h]          = min(1, nodes[h] × target_util / need[h])     (1 when need[h] = 0)
    valley node-hours  = Σ_h (servers - nodes[h]) × days
    training GPU-hours = valley_fill × valley node-hours × GPUs per node   (valley = "share")

With ``valley = "pool"`` the free nodes of each hour are lent to the twin's pool instead
(:func:`free_nodes`; :func:`suanli.simulation.twin.pool.run_pool`): its job queue runs on them
and the pool bills what it used, so the month here carries no training of its own.

Tokens served are priced by the ledger's own rule (:func:`suanli.core.token_pricing.token_lines`
over one :class:`~suanli.core.token_pricing.TokenItem` per clock hour of the month, lines
rounded by :func:`~suanli.core.billing.line_amount`), at prices falling
``price_decline_annual`` and converted by ``fx_rate``; the valley's training GPU-hours by the usage rule
(:func:`suanli.core.pricing.usage_lines`) at the pool's spot price on the market path. Both
are net of VAT. The day figures the DeepSeek reproduction checks (``theoretical_revenue``:
every token demanded at list price, no night discount; node counts; cost at
``gpu_hour_cost``) come from the first operating month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from suanli.core.billing import Period, line_amount, midnight
from suanli.core.money import round_money
from suanli.core.pricing import RATE_PLACES, UsageItem, usage_lines
from suanli.core.token_pricing import (
    MILLION,
    InferencePrice,
    InferencePriceBook,
    TokenItem,
    token_lines,
)
from suanli.inference.demand import deepseek_shape
from suanli.simulation.twin.pool import POOL_SKU, PoolPrices
from suanli.simulation.twin.scenario import Inference

ZERO = Decimal(0)
LOCAL_OFFSET = timedelta(hours=8)  # the profile's clock hours are Beijing time


@dataclass(frozen=True, slots=True)
class InferenceMonth:
    servers: int = 0
    demand_tokens: int = 0
    served_tokens: int = 0
    node_hours: int = 0  # provisioned for inference
    peak_nodes: int = 0
    valley_node_hours: int = 0
    training_node_hours: float = 0.0  # valley_fill × valley node-hours
    training_gpu_hours: Decimal = ZERO
    revenue: Decimal = ZERO  # tokens, net of VAT
    vat: Decimal = ZERO
    valley_revenue: Decimal = ZERO  # spot training in the valley, net of VAT
    valley_vat: Decimal = ZERO
    hours: int = 0  # in the month

    @property
    def slo_attainment(self) -> float | None:
        """Share of the demanded tokens served (None: no demand)."""
        return self.served_tokens / self.demand_tokens if self.demand_tokens else None

    @property
    def busy_servers(self) -> float:
        """Servers busy on average: inference nodes plus the valley's training share."""
        busy = self.node_hours + self.training_node_hours
        return busy / self.hours if self.hours else 0.0

    @property
    def billed(self) -> Decimal:
        return self.revenue + self.valley_revenue


@dataclass(frozen=True, slots=True)
class DayFigures:
    """One day of the first operating month, in the inference section's currency."""

    theoretical_revenue: Decimal
    avg_inference_nodes: float
    peak_inference_nodes: int
    valley_node_hours: float
    cost: Decimal | None  # node-hours × GPUs × gpu_hour_cost
    hourly_nodes: tuple[int, ...]


def hourly_shares(spec: Inference) -> tuple[float, ...]:
    profile = deepseek_shape() if spec.profile == "deepseek" else tuple(spec.profile)
    total = float(sum(profile))
    return tuple(v / total for v in profile)


def hourly_need(spec: Inference, growth: float) -> list[float]:
    """Nodes each clock hour of a day needs at demand ``growth`` × the base day."""
    per_day = spec.input_tokens_per_day / (3600 * spec.prefill_tokens_per_node_s)
    per_day += spec.output_tokens_per_day / (3600 * spec.decode_tokens_per_node_s)
    return [growth * share * per_day for share in hourly_shares(spec)]


def provision(spec: Inference, need: list[float], servers: int) -> list[int]:
    """The autoscaler's node count per hour, capped at ``servers``."""
    return [min(servers, max(spec.min_nodes, math.ceil(n / spec.target_util - 1e-9))) for n in need]


def _quoted(value: float, include_vat: bool, vat: Decimal, factor: float) -> Decimal:
    """A quoted per-million price net of VAT on the price path, to the rate's places."""
    amount = Decimal(repr(value)) * Decimal(repr(factor))
    return (amount / (1 + vat) if include_vat else amount).quantize(RATE_PLACES)


def _token_items(
    spec: Inference, period: Period, growth: float, served: list[float]
) -> tuple[list[TokenItem], int, int]:
    """One token record per clock hour of the month (every day alike); demanded and served."""
    shares = hourly_shares(spec)
    items: list[TokenItem] = []
    demand = served_total = 0
    day0 = datetime.combine(period.start, time(0), tzinfo=UTC)
    for hour, (share, kept) in enumerate(zip(shares, served, strict=True)):
        scale = growth * share * period.days
        tokens_in = round(spec.input_tokens_per_day * scale)
        tokens_out = round(spec.output_tokens_per_day * scale)
        demand += tokens_in + tokens_out
        s_in, s_out = round(tokens_in * kept), round(tokens_out * kept)
        served_total += s_in + s_out
        # clock hour ``hour`` local is ``hour - 8`` UTC: day 1 of the month, or the evening
        # before it for the first 8 hours, which would fall in the previous month
        started = day0 + timedelta(hours=hour) - LOCAL_OFFSET
        if started.date() < period.start:
            started += timedelta(days=1)
        hit = round(s_in * spec.cache_hit_share)
        items.append(TokenItem(started, spec.model, s_in, hit, s_out))
    return items, demand, served_total


def serve_month(
    spec: Inference,
    servers: int,
    t: int,
    period: Period,
    include_vat: bool,
    market_factor: float,
    spot: PoolPrices,
) -> InferenceMonth:
    """Grid month ``t`` (>= 1) of the inference service on ``servers`` nodes."""
    if servers <= 0 or t < 1:
        return InferenceMonth()
    growth = (1.0 + spec.demand_growth_annual) ** ((t - 1) / 12)
    need = hourly_need(spec, growth)
    nodes = provision(spec, need, servers)
    kept = [
        1.0 if n <= 0 else min(1.0, k * spec.target_util / n)
        for n, k in zip(need, nodes, strict=True)
    ]
    items, demand, served = _token_items(spec, period, growth, kept)
    vat = Decimal(repr(spec.vat_rate))
    decline = (1.0 - spec.price_decline_annual) ** ((t - 1) / 12) * spec.fx_rate
    price = InferencePrice(
        1,
        spec.model,
        period.start,
        _quoted(spec.input_miss_per_m, include_vat, vat, decline),
        _quoted(spec.input_hit_per_m, include_vat, vat, decline),
        _quoted(spec.output_per_m, include_vat, vat, decline),
        night_discount=Decimal(repr(spec.night_discount)),
        vat_rate=vat,
    )
    tokens = [
        line_amount(d.exact_net, d.vat_rate)
        for d in token_lines(items, InferencePriceBook([price]))
    ]
    valley = sum(servers - n for n in nodes) * period.days
    fill = spec.valley_fill if spec.valley == "share" else 0.0  # "pool": the pool bills it
    gpu_seconds = Decimal(round(fill * valley * spec.gpus_per_server * 3600))
    usage = (
        [UsageItem(midnight(period.start), POOL_SKU, "spot", gpu_seconds)] if gpu_seconds else []
    )
    training = [line_amount(d.exact_net, d.vat_rate) for d in usage_lines(usage, [], spot)]
    return InferenceMonth(
        servers=servers,
        demand_tokens=demand,
        served_tokens=served,
        node_hours=sum(nodes) * period.days,
        peak_nodes=max(nodes),
        valley_node_hours=valley,
        training_node_hours=fill * valley,
        training_gpu_hours=gpu_seconds / 3600,
        revenue=sum((a.net for a in tokens), ZERO),
        vat=sum((a.tax for a in tokens), ZERO),
        valley_revenue=sum((a.net for a in training), ZERO),
        valley_vat=sum((a.tax for a in training), ZERO),
        hours=period.days * 24,
    )


def free_nodes(spec: Inference, servers: int, t: int) -> list[int]:
    """Nodes the autoscaler leaves free in each local clock hour of grid month ``t``'s days
    (what ``valley = "pool"`` lends to the pool)."""
    if servers <= 0 or t < 1:
        return [0] * 24
    growth = (1.0 + spec.demand_growth_annual) ** ((t - 1) / 12)
    return [servers - n for n in provision(spec, hourly_need(spec, growth), servers)]


def day_figures(spec: Inference, servers: int) -> DayFigures:
    """The first operating day: DeepSeek's published figures are of this shape."""
    nodes = provision(spec, hourly_need(spec, 1.0), servers)
    hit = round(spec.input_tokens_per_day * spec.cache_hit_share)
    miss = spec.input_tokens_per_day - hit
    revenue = (
        Decimal(hit) * Decimal(repr(spec.input_hit_per_m))
        + Decimal(miss) * Decimal(repr(spec.input_miss_per_m))
        + Decimal(spec.output_tokens_per_day) * Decimal(repr(spec.output_per_m))
    ) / MILLION
    cost = None
    if spec.gpu_hour_cost is not None:
        cost = round_money(sum(nodes) * spec.gpus_per_server * Decimal(repr(spec.gpu_hour_cost)))
    return DayFigures(
        round_money(revenue),
        sum(nodes) / 24,
        max(nodes) if nodes else 0,
        float(sum(servers - n for n in nodes)),
        cost,
        tuple(nodes),
    )


def simulate_inference(
    spec: Inference,
    available: list[int],
    periods: list[Period],
    include_vat: bool,
    market: list[float],
    spot: list[PoolPrices],
) -> tuple[list[int], list[InferenceMonth]]:
    """Inference servers per grid month (``spec.servers`` capped at ``available[t]``, the
    servers in service less the pool's) and each month's :class:`InferenceMonth`."""
    servers = [min(spec.servers, max(a, 0)) if t >= 1 else 0 for t, a in enumerate(available)]
    months = [
        serve_month(spec, n, t, p, include_vat, f, s)
        for t, (n, p, f, s) in enumerate(zip(servers, periods, market, spot, strict=True))
    ]
    return servers, months
