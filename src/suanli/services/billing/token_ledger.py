"""Token usage in the invoice run and in revenue recognition (issue 15).

The invoice run (:mod:`suanli.services.billing.invoicing`) calls these inside its one
transaction per customer invoice, so the token lines, the invoice and the marking of the token
records it bills commit together or not at all. The pricing itself is
:func:`suanli.core.token_pricing.token_lines` (pure); nothing here prices.

- Billing: unbilled token records that started before the period's end, whatever their month
  (late records are billed by the next run), like GPU-hour usage.
- Revenue: tokens are recognised as they are served, i.e. in the month the record started,
  per customer (lines rounded per customer exactly as on its invoice).
- Marking is guarded by ``invoice_id IS NULL``: the UPDATE is the arbiter of a race with a
  concurrent run; fewer rows changed than read means another run billed them first.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import ARRAY, Integer, Select, any_, literal, select, update
from sqlalchemy.orm import Session

from suanli.core.billing import Period, line_amount
from suanli.core.pricing import DraftLine
from suanli.core.token_pricing import TokenItem, token_lines
from suanli.services.billing.tokens import load_token_prices
from suanli.store.models import TokenUsageRow

_ITEM = (
    TokenUsageRow.started_at,
    TokenUsageRow.model,
    TokenUsageRow.input_tokens,
    TokenUsageRow.cache_hit_tokens,
    TokenUsageRow.output_tokens,
)


def customers_with_unbilled_tokens(p: Period) -> Select[Any]:
    """Customer ids with token records not yet billed that started before ``p`` ends."""
    return select(TokenUsageRow.customer_id).where(
        TokenUsageRow.invoice_id.is_(None), TokenUsageRow.started_at < p.end_at
    )


def unbilled_tokens(s: Session, customer_id: int, p: Period) -> tuple[list[int], list[TokenItem]]:
    """Ids and items of a customer's token records the run for ``p`` bills."""
    rows = s.execute(
        select(TokenUsageRow.id, *_ITEM).where(
            TokenUsageRow.customer_id == customer_id,
            TokenUsageRow.invoice_id.is_(None),
            TokenUsageRow.started_at < p.end_at,
        )
    ).all()
    return [r[0] for r in rows], [TokenItem(*r[1:]) for r in rows]


def unbilled_token_lines(
    s: Session, customer_id: int, p: Period
) -> tuple[list[int], list[DraftLine]]:
    """Ids of the token records the run bills and their invoice lines."""
    ids, items = unbilled_tokens(s, customer_id, p)
    return ids, token_lines(items, load_token_prices(s)) if items else []


def mark_tokens_billed(s: Session, ids: list[int], invoice_id: int) -> int:
    """Point still-unbilled token records ``ids`` at their invoice; how many changed."""
    unbilled = TokenUsageRow.invoice_id.is_(None)
    conn = s.connection()
    if conn.dialect.name == "postgresql":  # one array parameter instead of N binds
        return int(
            conn.execute(
                update(TokenUsageRow)
                .where(TokenUsageRow.id == any_(literal(ids, ARRAY(Integer))), unbilled)
                .values(invoice_id=invoice_id)
            ).rowcount
        )
    changed = 0
    for i in range(0, len(ids), 500):
        changed += (
            s.connection()
            .execute(
                update(TokenUsageRow)
                .where(TokenUsageRow.id.in_(ids[i : i + 500]), unbilled)
                .values(invoice_id=invoice_id)
            )
            .rowcount
        )
    return changed


def token_revenue(s: Session, p: Period, customer_id: int | None = None) -> Decimal:
    """Net revenue of the tokens served in ``p`` (records that started in it)."""
    stmt = select(TokenUsageRow.customer_id, *_ITEM).where(
        TokenUsageRow.started_at >= p.start_at, TokenUsageRow.started_at < p.end_at
    )
    if customer_id:
        stmt = stmt.where(TokenUsageRow.customer_id == customer_id)
    by_customer: dict[int, list[TokenItem]] = defaultdict(list)
    for cid, started, model, inp, hit, out in s.execute(stmt).all():
        by_customer[cid].append(TokenItem(started, model, inp, hit, out))
    if not by_customer:
        return Decimal(0)
    prices = load_token_prices(s)
    return sum(
        (
            line_amount(d.exact_net, d.vat_rate).net
            for items in by_customer.values()
            for d in token_lines(items, prices)
        ),
        Decimal(0),
    )
