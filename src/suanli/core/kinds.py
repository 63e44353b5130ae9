"""The product's vocabularies of kinds, classes and statuses, as StrEnums.

Each value is the text stored in the database and shown in the API, so a member compares
equal to its string (``JobClass.SPOT == "spot"``) and callers that still hold plain strings keep
working. The store's CHECK constraints list the same values; a unit test keeps them equal.
Server states live in :mod:`suanli.core.fleet` (``ServerState``) with their transitions.
"""

from __future__ import annotations

from enum import StrEnum


class UsageClass(StrEnum):
    """Priority class of a usage record; ``reserved`` usage is billed at its contract's rate."""

    RESERVED = "reserved"
    HIGH = "high"
    STANDARD = "standard"
    SPOT = "spot"


class JobClass(StrEnum):
    """Class of a cloud job: reserved jobs may preempt spot jobs."""

    RESERVED = "reserved"
    SPOT = "spot"


class ContractKind(StrEnum):
    LEASE = "lease"
    RESERVED = "reserved"


class ContractStatus(StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"
    ENDED = "ended"


class DocumentKind(StrEnum):
    """An invoice, or a credit note against one."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class PaymentKind(StrEnum):
    """``payment`` and ``prepayment`` are applied to invoices; a ``deposit`` is held."""

    PAYMENT = "payment"
    PREPAYMENT = "prepayment"
    DEPOSIT = "deposit"


class CreditKind(StrEnum):
    """What a credit note gave back beyond what was still owed."""

    OVERPAYMENT = "overpayment"
    WRITTEN_OFF = "written_off"


class LineKind(StrEnum):
    """Kind of an invoice line; every kind is revenue unless billed as an agent's pass-through."""

    RENT = "rent"
    FEE = "fee"
    USAGE = "usage"
    TRUE_UP = "true_up"
    SLA_CREDIT = "sla_credit"
    PENALTY = "penalty"
    TOKENS = "tokens"
