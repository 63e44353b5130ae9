"""Billed, recognised and collected *by product* for the report's revenue section.

What it owns: attributing the ledger's documents to products (the ``kind`` of invoice lines:
rent, fee, usage, tokens, ...).

- **Credit notes go back to the lines they credit.** Every credit-note line credits one line of
  one invoice (:func:`~suanli.services.billing.receivables.credited_line_no`), so its net is
  counted under that line's product, in the period the credit note is issued: billed by product
  is net of credit notes, and the recognised ``credit_notes`` reduction is moved onto the same
  products (:func:`credits_by_product`). Totals are unchanged; only the split moves.
- **Cash applied to an invoice is split pro rata** to what each of its lines still carried on
  the day the cash was applied: the line's gross less the gross of credit notes on it issued by
  that day (never below zero). Each allocation is split to the cent and its rounding residue
  goes to the line with the largest weight, so the split sums exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from suanli.services.billing.receivables import credited_line_no
from suanli.services.reports.period import ReportPeriod
from suanli.store.models import InvoiceLineRow, InvoiceRow, PaymentAllocationRow

ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class CreditLine:
    invoice_id: int  # the credited invoice
    line_no: int  # the credited line
    issued: date  # the credit note's issue date
    net: Decimal  # negative
    gross: Decimal  # negative


def _credit_lines(s: Session, invoice_ids: set[int] | None = None,
                  period: ReportPeriod | None = None) -> list[CreditLine]:  # fmt: skip
    q = (
        select(InvoiceRow.credited_invoice_id, InvoiceRow.issue_date, InvoiceLineRow.description,
               InvoiceLineRow.net, InvoiceLineRow.gross)
        .join(InvoiceLineRow, InvoiceLineRow.invoice_id == InvoiceRow.id)
        .where(InvoiceRow.kind == "credit_note")
        .order_by(InvoiceRow.id, InvoiceLineRow.line_no)
    )  # fmt: skip
    if invoice_ids is not None:
        q = q.where(InvoiceRow.credited_invoice_id.in_(invoice_ids))
    if period is not None:
        q = q.where(InvoiceRow.issue_date >= period.start, InvoiceRow.issue_date < period.end)
    return [
        CreditLine(int(iid), credited_line_no(desc), issued, net, gross)
        for iid, issued, desc, net, gross in s.execute(q)
        if iid is not None
    ]


def _kinds(s: Session, invoice_ids: set[int]) -> dict[tuple[int, int], str]:
    return {
        (iid, no): kind
        for iid, no, kind in s.execute(
            select(InvoiceLineRow.invoice_id, InvoiceLineRow.line_no, InvoiceLineRow.kind).where(
                InvoiceLineRow.invoice_id.in_(invoice_ids)
            )
        )
    }


def credits_by_product(s: Session, period: ReportPeriod) -> dict[str, Decimal]:
    """Net of the credit notes issued in the period (negative), by the product they credit."""
    credits = _credit_lines(s, period=period)
    kinds = _kinds(s, {c.invoice_id for c in credits})
    out: dict[str, Decimal] = defaultdict(Decimal)
    for c in credits:
        out[kinds[c.invoice_id, c.line_no]] += c.net
    return dict(out)


def billed_by_product(s: Session, period: ReportPeriod) -> dict[str, Decimal]:
    """Net billed in the period by product: invoice lines of invoices issued in it, plus the
    credit notes issued in it under the product of the line each credits."""
    issued = aliased(InvoiceRow)
    out: dict[str, Decimal] = defaultdict(Decimal)
    for kind, net in s.execute(
        select(InvoiceLineRow.kind, InvoiceLineRow.net)
        .join(issued, issued.id == InvoiceLineRow.invoice_id)
        .where(issued.kind == "invoice", issued.issue_date >= period.start,
               issued.issue_date < period.end)
    ):  # fmt: skip
        out[kind] += net
    for kind, net in credits_by_product(s, period).items():
        out[kind] += net
    return dict(out)


def split_pro_rata(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``amount`` split over ``weights`` to the cent; the residue goes to the largest weight."""
    total = sum(weights, ZERO)
    if not total:
        return [ZERO] * len(weights)
    shares = [(amount * w / total).quantize(CENT) for w in weights]
    largest = max(range(len(weights)), key=lambda i: weights[i])
    shares[largest] += amount - sum(shares, ZERO)
    return shares


def collected_by_product(s: Session, period: ReportPeriod) -> dict[str, Decimal]:
    """Cash applied to invoices in the period, by product (see the module's docstring)."""
    allocations = s.execute(
        select(PaymentAllocationRow.invoice_id, PaymentAllocationRow.amount,
               PaymentAllocationRow.applied_on)
        .where(PaymentAllocationRow.applied_on >= period.start,
               PaymentAllocationRow.applied_on < period.end)
        .order_by(PaymentAllocationRow.id)
    ).all()  # fmt: skip
    ids = {i for i, _, _ in allocations}
    lines: dict[int, list[tuple[int, str, Decimal]]] = defaultdict(list)
    for iid, no, kind, gross in s.execute(
        select(InvoiceLineRow.invoice_id, InvoiceLineRow.line_no, InvoiceLineRow.kind,
               InvoiceLineRow.gross)
        .where(InvoiceLineRow.invoice_id.in_(ids))
        .order_by(InvoiceLineRow.invoice_id, InvoiceLineRow.line_no)
    ):  # fmt: skip
        lines[iid].append((no, kind, gross))
    credits: dict[int, list[CreditLine]] = defaultdict(list)
    for c in _credit_lines(s, ids):
        credits[c.invoice_id].append(c)
    out: dict[str, Decimal] = defaultdict(Decimal)
    for iid, amount, applied_on in allocations:
        weights = []
        for no, _, gross in lines[iid]:
            credited = sum(
                (c.gross for c in credits[iid] if c.line_no == no and c.issued <= applied_on), ZERO
            )
            weights.append(max(gross + credited, ZERO))
        for (_, kind, _), share in zip(lines[iid], split_pro_rata(amount, weights), strict=True):
            out[kind] += share
    return dict(out)
