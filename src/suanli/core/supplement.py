"""Supplementary invoices (pure): what a closed period still owes after its invoices.

A supplementary run drafts the period afresh (:func:`~suanli.core.pricing.draft_lines`) and
compares it, item by item, with the lines already invoiced for that period (its regular invoice
and any earlier supplements; credit notes are corrections, not service, and do not count). The
difference is what the supplementary invoice bills, so after it the period's invoices add up
exactly to the drafted lines, to the cent, and a second supplementary run finds nothing.

Vocabulary: an *item* is one priced thing of a contract in a period, keyed by
``(contract_id, kind, label)``: its rent, each pass-through fee (``label`` names the fee), its
SLA credit, its termination penalty, its true-up. Usage and token lines are not compared: a record
is billed once by pointing it at its invoice, so drafted usage is already only the unbilled
records and passes through unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from suanli.core.billing import line_amount
from suanli.core.kinds import LineKind
from suanli.core.pricing import DraftLine

RECORD_BILLED_KINDS = frozenset({"usage", "tokens"})  # records point at their invoice
ItemKey = tuple[int | None, str, str]


@dataclass(frozen=True, slots=True)
class BilledLine:
    """A line already invoiced for the period (amounts as issued, i.e. rounded)."""

    contract_id: int | None
    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net: Decimal
    vat_rate: Decimal
    service_start: date | None = None
    service_end: date | None = None


def item_key(contract_id: int | None, kind: str, description: str) -> ItemKey:
    """The item a line bills. Fees are told apart by their label (``L-000001 cabinet fee``),
    which :func:`~suanli.core.pricing.lease_lines` writes before `` (pass-through)``."""
    label = description.partition(" (pass-through)")[0] if kind == LineKind.FEE else ""
    return (contract_id, kind, label)


def unbilled_lines(drafted: Sequence[DraftLine], billed: Iterable[BilledLine]) -> list[DraftLine]:
    """The lines a supplementary invoice carries: drafted items never billed, as drafted; items
    billed for another amount, as the difference (``due − billed``, exact in cents); items billed
    but no longer due, reversed. Usage passes through (see the module docstring)."""
    before: dict[ItemKey, list[BilledLine]] = {}
    for b in billed:
        if b.kind not in RECORD_BILLED_KINDS:
            before.setdefault(item_key(b.contract_id, b.kind, b.description), []).append(b)
    out: list[DraftLine] = []
    for d in drafted:
        if d.kind in RECORD_BILLED_KINDS:
            out.append(d)
            continue
        prior = before.pop(item_key(d.contract_id, d.kind, d.description), [])
        if not prior:
            out.append(d)
            continue
        net = sum((b.net for b in prior), Decimal(0))
        due = line_amount(d.exact_net, d.vat_rate).net
        if due != net:
            qty = sum((b.quantity for b in prior), Decimal(0))
            out.append(
                replace(
                    d,
                    description=f"{d.description}; {net} billed before",
                    quantity=d.quantity - qty,
                    exact_net=due - net,
                )
            )
    for prior in before.values():
        net = sum((b.net for b in prior), Decimal(0))
        if net:
            b = prior[0]
            out.append(
                DraftLine(
                    b.kind,
                    f"{b.description}; reversed, no longer due",
                    b.contract_id,
                    -sum((p.quantity for p in prior), Decimal(0)),
                    b.unit,
                    b.unit_price,
                    -net,
                    b.vat_rate,
                    b.service_start,
                    b.service_end,
                )
            )
    return out
