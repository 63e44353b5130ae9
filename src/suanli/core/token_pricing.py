"""Token pricing (pure): the inference price list's rules and the invoice lines of token usage.

Owns how served tokens become money; it reads and writes nothing. The invoice run, revenue
recognition and (later) the digital twin call :func:`token_lines`; none re-implements a price.

Vocabulary:

- *input tokens* are all prompt tokens of a request; *cache-hit tokens* are the part of them
  served from the prefix cache (``cache_hit <= input``); *input-miss* = input - cache hit.
- A *tier* is one of :data:`TIERS` (``input_miss``, ``input_hit``, ``output``), each with its own
  price in CNY per million tokens.
- *Night* is a local time-of-day window ``[night_start, night_end)`` (it may wrap past
  midnight) in the price's UTC offset (Beijing, +08:00, by default). A record is night-priced
  when its *start* time falls in the window; the whole record then gets ``night_discount``
  (a fraction off, e.g. 0.5 = half price) on every tier.

Rules (docs/inference.md, "Pricing and billing"):

1. The price of a record is the one valid (``valid_from`` <= day) on the UTC calendar day it
   started, like GPU-hour usage.
2. Lines group records by month, model, tier, price and day/night; each line's exact net is
   ``tokens × price_per_million × (1 - discount) / 1,000,000`` and is rounded once, later
   (:func:`suanli.core.billing.line_amount`), with VAT per line on the rounded net.
3. The quantity shown is in millions of tokens, to 0.001 M for display; the exact token count
   is in the description and the amount is computed from it, never from the rounded quantity.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol

from suanli.core.pricing import RATE_PLACES, DraftLine

TIERS = ("input_miss", "input_hit", "output")
TIER_LABELS = {"input_miss": "input (cache miss)", "input_hit": "input (cache hit)",
               "output": "output"}  # fmt: skip
MILLION = Decimal(1_000_000)
IT_SERVICES_VAT = Decimal("0.06")
"""VAT on information-technology services (现代服务业 — 信息技术服务) in China."""
LINE_KIND = "tokens"


@dataclass(frozen=True, slots=True)
class TokenItem:
    """Tokens of one request (or an aggregate of requests) of a model, started at ``started_at``."""

    started_at: datetime
    model: str
    input_tokens: int
    cache_hit_tokens: int
    output_tokens: int

    def tokens(self, tier: str) -> int:
        if tier == "input_miss":
            return self.input_tokens - self.cache_hit_tokens
        if tier == "input_hit":
            return self.cache_hit_tokens
        return self.output_tokens


class TokenPrice(Protocol):
    """A model's token prices from ``valid_from`` on (``id`` keys the lines it prices)."""

    @property
    def id(self) -> int: ...
    @property
    def input_miss_per_m(self) -> Decimal: ...
    @property
    def input_hit_per_m(self) -> Decimal: ...
    @property
    def output_per_m(self) -> Decimal: ...
    @property
    def night_discount(self) -> Decimal: ...
    @property
    def night_start(self) -> time: ...
    @property
    def night_end(self) -> time: ...
    @property
    def utc_offset_minutes(self) -> int: ...
    @property
    def vat_rate(self) -> Decimal: ...


class TokenPriceList(Protocol):
    def at(self, model: str, day: date) -> TokenPrice | None: ...


@dataclass(frozen=True, slots=True)
class InferencePrice:
    """One version of a model's token prices (CNY per million tokens), valid from a day on."""

    id: int
    model: str
    valid_from: date
    input_miss_per_m: Decimal
    input_hit_per_m: Decimal
    output_per_m: Decimal
    night_discount: Decimal = Decimal(0)
    night_start: time = time(0, 30)
    night_end: time = time(8, 30)
    utc_offset_minutes: int = 480
    vat_rate: Decimal = IT_SERVICES_VAT


class InferencePriceBook:
    """Prices by model, each model's versions sorted by ``valid_from`` (a :class:`TokenPriceList`)."""

    def __init__(self, prices: Iterable[InferencePrice]) -> None:
        self._by_model: dict[str, list[InferencePrice]] = defaultdict(list)
        for p in sorted(prices, key=lambda p: (p.model, p.valid_from)):
            self._by_model[p.model].append(p)

    def at(self, model: str, day: date) -> InferencePrice | None:
        found = None
        for p in self._by_model.get(model, []):
            if p.valid_from <= day:
                found = p
        return found


def tier_price(price: TokenPrice, tier: str) -> Decimal:
    if tier == "input_miss":
        return price.input_miss_per_m
    if tier == "input_hit":
        return price.input_hit_per_m
    return price.output_per_m


def in_window(clock_time: time, start: time, end: time) -> bool:
    """Whether ``clock_time`` is in ``[start, end)``, a window that may wrap past midnight.

    An empty window (``start == end``) contains nothing.
    """
    if start <= end:
        return start <= clock_time < end
    return clock_time >= start or clock_time < end


def is_night(price: TokenPrice, started_at: datetime) -> bool:
    """Whether a record that started at ``started_at`` (aware) gets the night discount."""
    if price.night_discount == 0:
        return False
    local = started_at + timedelta(minutes=price.utc_offset_minutes)
    return in_window(local.time().replace(tzinfo=None), price.night_start, price.night_end)


def token_amount(tokens: int, price_per_m: Decimal, discount: Decimal = Decimal(0)) -> Decimal:
    """Exact (unrounded) net of ``tokens`` at ``price_per_m`` less ``discount`` (a fraction)."""
    return Decimal(tokens) * price_per_m * (1 - discount) / MILLION


def token_lines(usage: Iterable[TokenItem], prices: TokenPriceList) -> list[DraftLine]:
    """Invoice (or revenue) lines of token usage: one per month, model, price, day/night and
    tier with tokens, in a stable order. Usage without a price on its start day is skipped
    (ingestion refuses it; a price deleted later would leave it unbilled)."""
    groups: dict[tuple[str, str, int, bool], list[int]] = defaultdict(lambda: [0, 0, 0])
    known: dict[int, TokenPrice] = {}
    for u in usage:
        day = u.started_at.date()
        price = prices.at(u.model, day)
        if price is None:
            continue
        known[price.id] = price
        key = (f"{day.year:04d}-{day.month:02d}", u.model, price.id, is_night(price, u.started_at))
        totals = groups[key]
        for i, tier in enumerate(TIERS):
            totals[i] += u.tokens(tier)
    lines: list[DraftLine] = []
    for (month, model, price_id, night), totals in sorted(groups.items()):
        price = known[price_id]
        discount = price.night_discount if night else Decimal(0)
        when = f", night (-{_percent(discount)} %)" if night else ""
        for tier, tokens in zip(TIERS, totals, strict=True):
            if tokens == 0:
                continue
            rate = tier_price(price, tier)
            lines.append(
                DraftLine(
                    LINE_KIND,
                    f"{model} {TIER_LABELS[tier]} tokens, {month}{when}: {tokens:,} tokens",
                    None,
                    (Decimal(tokens) / MILLION).quantize(Decimal("0.001")),
                    "M tokens",
                    (rate * (1 - discount)).quantize(RATE_PLACES),
                    token_amount(tokens, rate, discount),
                    price.vat_rate,
                )
            )
    return lines


def _percent(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f}"
