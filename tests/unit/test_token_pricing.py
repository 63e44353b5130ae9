"""Token pricing rules (pure): tiers, the night window, price versions and exact line amounts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from suanli.core.billing import line_amount
from suanli.core.token_pricing import (
    InferencePrice,
    InferencePriceBook,
    TokenItem,
    in_window,
    is_night,
    token_lines,
)

V3 = InferencePrice(
    1, "deepseek-v3", date(2025, 1, 1), Decimal("2"), Decimal("0.5"), Decimal("8"),
    night_discount=Decimal("0.5"),
)  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_night_window_is_local_time_and_wraps() -> None:
    # 00:30-08:30 Beijing is 16:30-00:30 UTC.
    assert is_night(V3, at("2025-04-02T16:30:00"))
    assert is_night(V3, at("2025-04-03T00:29:59"))
    assert not is_night(V3, at("2025-04-03T00:30:00"))
    assert not is_night(V3, at("2025-04-02T16:29:59"))
    assert in_window(time(23), time(22), time(6)) and in_window(time(5), time(22), time(6))
    assert not in_window(time(12), time(22), time(6))
    assert not in_window(time(3), time(3), time(3))  # empty window


def test_one_day_and_one_night_request_worked_by_hand() -> None:
    """deepseek-v3 at 2 / 0.5 / 8 CNY per M (miss / hit / output), night -50 %, VAT 6 %.

    Day request (10:00 Beijing): 1,234,567 input of which 234,567 cache hits, 345,678 output.
      miss   1,000,000 × 2   / 1e6 = 2.00       → net 2.00, VAT 0.12
      hit      234,567 × 0.5 / 1e6 = 0.1172835  → net 0.12, VAT 0.0072 → 0.01
      output   345,678 × 8   / 1e6 = 2.765424   → net 2.77, VAT 0.1662 → 0.17
    Night request (01:00 Beijing): 500,000 input of which 100,000 hits, 200,001 output, half off.
      miss     400,000 × 2   × 0.5 / 1e6 = 0.40       → net 0.40, VAT 0.024  → 0.02
      hit      100,000 × 0.5 × 0.5 / 1e6 = 0.025      → net 0.03 (half up), VAT 0.0018 → 0.00
      output   200,001 × 8   × 0.5 / 1e6 = 0.800004   → net 0.80, VAT 0.048  → 0.05
    Invoice: net 6.12, VAT 0.37, gross 6.49.
    """
    usage = [
        TokenItem(at("2025-04-02T02:00:00"), "deepseek-v3", 1_234_567, 234_567, 345_678),
        TokenItem(at("2025-04-02T17:00:00"), "deepseek-v3", 500_000, 100_000, 200_001),
    ]
    lines = token_lines(usage, InferencePriceBook([V3]))
    amounts = [line_amount(d.exact_net, d.vat_rate) for d in lines]
    assert [(a.net, a.tax) for a in amounts] == [
        (Decimal("2.00"), Decimal("0.12")), (Decimal("0.12"), Decimal("0.01")),
        (Decimal("2.77"), Decimal("0.17")), (Decimal("0.40"), Decimal("0.02")),
        (Decimal("0.03"), Decimal("0.00")), (Decimal("0.80"), Decimal("0.05")),
    ]  # fmt: skip
    assert sum(a.net for a in amounts) == Decimal("6.12")
    assert sum(a.tax for a in amounts) == Decimal("0.37")
    assert [d.unit_price for d in lines] == [
        Decimal(v) for v in ("2", "0.5", "8", "1", "0.25", "4")
    ]
    assert lines[1].quantity == Decimal("0.235") and lines[1].unit == "M tokens"
    assert "234,567 tokens" in lines[1].description and "night (-50 %)" in lines[3].description
    assert {d.kind for d in lines} == {"tokens"} and {d.vat_rate for d in lines} == {
        Decimal("0.06")
    }


def test_price_versions_by_start_day_and_unpriced_usage_skipped() -> None:
    cheaper = InferencePrice(
        2, "deepseek-v3", date(2025, 5, 1), Decimal("1"), Decimal("0.25"), Decimal("4")
    )
    book = InferencePriceBook([cheaper, V3])
    usage = [
        TokenItem(at("2025-04-30T12:00:00"), "deepseek-v3", 1_000_000, 0, 0),  # April, day
        TokenItem(at("2025-05-01T00:00:00"), "deepseek-v3", 1_000_000, 0, 0),  # May price, no night
        TokenItem(at("2024-12-31T12:00:00"), "deepseek-v3", 1_000_000, 0, 0),  # before any price
        TokenItem(at("2025-05-01T00:00:00"), "llama-3.1-8b", 1_000_000, 0, 0),  # unpriced model
    ]
    lines = token_lines(usage, book)
    assert [(d.description.split(", ")[1][:7], d.exact_net) for d in lines] == [
        ("2025-04", Decimal("2")), ("2025-05", Decimal("1")),
    ]  # fmt: skip


@given(
    st.lists(
        st.tuples(
            st.integers(0, 86400 * 30 - 1),
            st.integers(0, 10**9),
            st.integers(0, 10**9),
            st.integers(0, 10**9),
        ),
        max_size=30,
    )
)
def test_lines_conserve_tokens_and_money(rows: list[tuple[int, int, int, int]]) -> None:
    """Every token is on exactly one line, and the exact nets add up to the per-record amounts."""
    base = at("2025-04-01T00:00:00").timestamp()
    usage = [
        TokenItem(datetime.fromtimestamp(base + s, UTC), "deepseek-v3", i + h, h, o)
        for s, i, h, o in rows
    ]
    lines = token_lines(usage, InferencePriceBook([V3]))
    per_record = sum(
        (
            (Decimal(u.input_tokens - u.cache_hit_tokens) * 2 + Decimal(u.cache_hit_tokens) / 2
             + Decimal(u.output_tokens) * 8) * (Decimal("0.5") if is_night(V3, u.started_at) else 1)
            for u in usage
        ),
        Decimal(0),
    ) / 1_000_000  # fmt: skip
    assert sum((d.exact_net for d in lines), Decimal(0)) == per_record
    tokens = sum(int(d.description.rsplit(": ", 1)[1].split()[0].replace(",", "")) for d in lines)
    assert tokens == sum(u.input_tokens + u.output_tokens for u in usage)
