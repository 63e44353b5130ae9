"""Ledger documents as domain values: issued invoices and credit notes with their lines, and
customer payments (with the amount applied to invoices).

Built by :mod:`suanli.services.billing.receivables` from the ``invoices``, ``invoice_lines`` and
``payments`` tables; read by the CLI, the API and the web pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    line_no: int
    kind: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    net: Decimal
    vat_rate: Decimal
    tax: Decimal
    gross: Decimal
    service_start: date | None
    service_end: date | None


@dataclass(frozen=True, slots=True)
class Invoice:
    number: str
    kind: str
    customer: str
    period: str | None
    issue_date: date
    due_date: date
    currency: str
    net: Decimal
    tax: Decimal
    gross: Decimal
    outstanding: Decimal
    credited_invoice: str | None
    reason: str | None
    fapiao_number: str | None
    lines: list[InvoiceLine]


@dataclass(frozen=True, slots=True)
class Payment:
    id: int
    customer: str
    kind: str
    amount: Decimal
    received_on: date
    reference: str | None
    applied: Decimal


@dataclass(frozen=True, slots=True)
class Allocation:
    """Part of a payment applied to one invoice (payments are applied oldest invoice first)."""

    payment_id: int
    kind: str
    received_on: date
    reference: str | None
    amount: Decimal
    applied_on: date
