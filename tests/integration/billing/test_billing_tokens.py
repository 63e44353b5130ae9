"""Token metering and billing on SQLite and PostgreSQL (issue 15), against figures worked out by
hand (the same two requests as ``tests/unit/test_token_pricing.py``, in April 2024).

deepseek-v3 at 2 / 0.5 / 8 CNY per M tokens (input miss / input hit / output), night (00:30-08:30
Beijing) -50 %, VAT 6 %:

- day request (t1, 10:00 Beijing): 1,234,567 input (234,567 hits), 345,678 output
  → lines 2.00 + 0.12 + 2.77 net, VAT 0.12 + 0.01 + 0.17;
- night request (t2, 01:00 Beijing): 500,000 input (100,000 hits), 200,001 output
  → lines 0.40 + 0.03 + 0.80 net, VAT 0.02 + 0.00 + 0.05;
- invoice net 6.12, VAT 0.37, gross 6.49.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import select

from suanli.core.billing import parse_period
from suanli.core.errors import ValidationError
from suanli.services.billing.token_ledger import mark_tokens_billed
from suanli.services.billing.tokens import ingest_usage
from suanli.store.db import make_session_factory, transaction
from suanli.store.models import TokenUsageRow

APRIL = parse_period("2024-04")
MAY = parse_period("2024-05")
V3 = "deepseek-v3"


def tok(event_id: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = dict(
        event_id=event_id, customer="acme", model=V3, started_at="2024-04-02T02:00:00+00:00",
        ended_at="2024-04-02T02:00:05+00:00", input_tokens=1_234_567, cache_hit_tokens=234_567,
        output_tokens=345_678,
    )  # fmt: skip
    base.update(kw)
    return base


NIGHT = dict(started_at="2024-04-02T17:00:00+00:00", ended_at="2024-04-02T17:00:09+00:00",
             input_tokens="500000", cache_hit_tokens="100000", output_tokens="200001")  # fmt: skip


def setup(world) -> None:  # type: ignore[no-untyped-def]
    m = world.svc.money
    m.tenancy.create_customer("acme", "Acme AI")
    m.tokens.set_price(V3, "2", "0.5", "8", date(2024, 1, 1), night_discount="0.5")


def test_price_list_is_versioned_and_validated(world) -> None:  # type: ignore[no-untyped-def]
    setup(world)
    t = world.svc.money.tokens
    t.set_price(V3, "1", "0.25", "4", date(2024, 6, 1))
    t.set_price(V3, "1", "0.2", "4", date(2024, 6, 1), night_start="22:00", night_end="06:00")
    prices = t.list_prices(V3)
    assert [(p.valid_from, p.input_hit_per_m, p.night_discount) for p in prices] == [
        (date(2024, 1, 1), D("0.5"), D("0.5")), (date(2024, 6, 1), D("0.2"), D(0)),
    ]  # fmt: skip
    assert prices[1].night_start.hour == 22 and prices[0].vat_rate == D("0.06")
    for bad, code in (
        (dict(model="bad model"), "tokens.invalid_model"),
        (dict(input_miss_per_m="-1"), "money.invalid"),
        (dict(output_per_m="0.000000001"), "money.invalid"),
        (dict(night_discount="1.5"), "input.out_of_range"),
        (dict(night_start="25:00"), "input.invalid_time"),
    ):
        args: dict[str, Any] = dict(model=V3, input_miss_per_m="1", input_hit_per_m="1",
                                    output_per_m="1", valid_from=date(2024, 7, 1)) | bad  # fmt: skip
        with pytest.raises(ValidationError) as info:
            t.set_price(**args)
        assert info.value.code == code


def test_ingestion_is_idempotent_with_coded_rejections(world, engine) -> None:  # type: ignore[no-untyped-def]
    setup(world)
    t = world.svc.money.tokens
    batch = [
        tok("t1"),
        tok("t2", **NIGHT),
        tok("b1", customer="ghost"),
        tok("b2", model="llama-3.1-8b"),  # no price
        tok("b3", cache_hit_tokens=2_000_000),
        tok("b4", output_tokens="1.5"),
        tok("b5", input_tokens=-3),
        tok("b6", started_at="yesterday"),
        tok("b7", ended_at="2024-04-01T00:00:00+00:00"),
        tok("b8", started_at="2023-12-31T12:00:00+00:00", ended_at=None),  # before the price
        tok("", output_tokens=1),
        tok("b9", output_tokens=True),
        tok("t1"),  # repeated in the batch
    ]
    result = t.ingest(batch)
    assert (result.received, result.accepted, result.duplicates) == (13, 2, 1)
    assert [(r.row, r.field, r.code) for r in result.rejected] == [
        (2, "customer", "tokens.unknown_customer"), (3, "model", "tokens.no_price"),
        (4, "cache_hit_tokens", "tokens.hits_exceed_input"),
        (5, "output_tokens", "tokens.invalid_count"), (6, "input_tokens", "tokens.invalid_count"),
        (7, "started_at", "tokens.invalid_time"), (8, "ended_at", "tokens.ended_before_start"),
        (9, "model", "tokens.no_price"), (10, "event_id", "tokens.invalid_event_id"),
        (11, "output_tokens", "tokens.invalid_count"),
    ]  # fmt: skip
    again = t.ingest(batch)
    assert (again.accepted, again.duplicates) == (0, 3)
    with transaction(make_session_factory(engine)) as s:
        stored = s.scalars(select(TokenUsageRow).order_by(TokenUsageRow.event_id)).all()
        assert [(r.event_id, r.input_tokens, r.cache_hit_tokens, r.output_tokens) for r in stored] == [
            ("t1", 1_234_567, 234_567, 345_678), ("t2", 500_000, 100_000, 200_001),
        ]  # fmt: skip
    page = t.list_usage(customer="acme", limit=1)
    assert page.total == 2 and page.items[0].event_id == "t1" and not page.items[0].invoiced


def test_mixed_batch_through_the_usage_path_keeps_row_numbers(world) -> None:  # type: ignore[no-untyped-def]
    setup(world)
    m = world.svc.money
    m.metering.set_price("HGX-H800-8", "standard", "15", date(2024, 1, 1))
    gpu = dict(event_id="g1", customer="acme", sku="HGX-H800-8", priority_class="standard",
               job_id="j", started_at="2024-04-02T00:00:00+00:00",
               ended_at="2024-04-02T01:00:00+00:00", gpu_seconds="3600")  # fmt: skip
    batch = [gpu, tok("t1"), dict(gpu, event_id="g2", customer="ghost"), tok("b1", customer="x")]
    result = ingest_usage(m.metering, m.tokens, batch)
    assert (result.received, result.accepted, result.duplicates) == (4, 2, 0)
    assert [(r.row, r.event_id, r.code) for r in result.rejected] == [
        (2, "g2", "usage.invalid_record"), (3, "b1", "tokens.unknown_customer"),
    ]  # fmt: skip
    assert m.metering.list_usage().total == 1 and m.tokens.list_usage().total == 1


def test_invoice_and_revenue_exact_to_the_cent(world) -> None:  # type: ignore[no-untyped-def]
    setup(world)
    m = world.svc.money
    assert m.tokens.ingest([tok("t1"), tok("t2", **NIGHT)]).accepted == 2
    run = m.billing.run(APRIL, issue_date=date(2024, 5, 1))
    assert run.created == ["INV-2024-000001"]
    inv = m.ledger.get_invoice("INV-2024-000001")
    assert [(ln.kind, ln.quantity, ln.unit_price, ln.net, ln.tax) for ln in inv.lines] == [
        ("tokens", D("1.000"), D("2"), D("2.00"), D("0.12")),
        ("tokens", D("0.235"), D("0.5"), D("0.12"), D("0.01")),
        ("tokens", D("0.346"), D("8"), D("2.77"), D("0.17")),
        ("tokens", D("0.400"), D("1"), D("0.40"), D("0.02")),
        ("tokens", D("0.100"), D("0.25"), D("0.03"), D("0.00")),
        ("tokens", D("0.200"), D("4"), D("0.80"), D("0.05")),
    ]  # fmt: skip
    assert (inv.net, inv.tax, inv.gross) == (D("6.12"), D("0.37"), D("6.49"))
    assert (
        "deepseek-v3 output tokens, 2024-04, night (-50 %): 200,001 tokens"
        in inv.lines[5].description
    )
    assert all(u.invoiced for u in m.tokens.list_usage().items)
    assert m.billing.run(APRIL, issue_date=date(2024, 5, 1)).created == []  # nothing left to bill
    assert m.billing.revenue(APRIL) == {"tokens": D("6.12")}
    # A late record of April: billed by May's run, recognised in April.
    late = tok("t3", input_tokens=1_000_000, cache_hit_tokens=0, output_tokens=0,
               started_at="2024-04-30T12:00:00+00:00", ended_at=None)  # fmt: skip
    assert m.tokens.ingest([late]).accepted == 1
    assert m.billing.revenue(APRIL) == {"tokens": D("8.12")}
    assert m.billing.revenue(MAY) == {}
    m.billing.run(MAY, issue_date=date(2024, 6, 1))
    may = m.ledger.list_invoices(customer="acme", period="2024-05").items[0]
    assert (may.net, may.tax) == (D("2.00"), D("0.12"))


def test_daily_usage_for_the_portal(world) -> None:  # type: ignore[no-untyped-def]
    setup(world)
    m = world.svc.money
    m.tokens.set_price("qwen2.5-72b", "4", "1", "12", date(2024, 1, 1))
    m.tokens.ingest([
        tok("t1"), tok("t2", **NIGHT), tok("t3", started_at="2024-04-02T23:59:59+00:00", ended_at=None),
        tok("q1", model="qwen2.5-72b", input_tokens=10, cache_hit_tokens=0, output_tokens=5),
    ])  # fmt: skip
    days = m.tokens.daily(customer="acme")
    assert [(d.day, d.model, d.requests, d.input_tokens, d.cache_hit_tokens, d.output_tokens)
            for d in days] == [
        (date(2024, 4, 2), V3, 3, 2_969_134, 569_134, 891_357),
        (date(2024, 4, 2), "qwen2.5-72b", 1, 10, 0, 5),
    ]  # fmt: skip
    since = datetime(2024, 4, 2, 12, tzinfo=UTC)
    assert [d.requests for d in m.tokens.daily(customer="acme", since=since)] == [2]
    assert m.tokens.daily(customer="nobody") == []


def test_marking_billed_records_is_guarded(world, engine) -> None:  # type: ignore[no-untyped-def]
    """The UPDATE only takes still-unbilled records: a run that read records another run has
    since billed sees fewer rows changed (and rolls its invoice back, like GPU usage)."""
    setup(world)
    m = world.svc.money
    m.tokens.ingest([tok("t1"), tok("t2", **NIGHT)])
    m.billing.run(APRIL, issue_date=date(2024, 5, 1))
    with transaction(make_session_factory(engine)) as s:
        ids = list(s.scalars(select(TokenUsageRow.id)))
        invoice_id = s.scalars(select(TokenUsageRow.invoice_id)).first()
        assert invoice_id is not None
        assert mark_tokens_billed(s, ids, invoice_id) == 0
