"""Contract domain values: a lease or reserved-capacity contract as the product shows it, and an
SLA downtime event of a leased server.

Built by :mod:`suanli.services.billing.leasing` (the single writer of ``contracts`` and
``sla_events``) and read by the CLI, the API and the web pages; the priced terms used to draft
invoice lines are :class:`suanli.core.pricing.ContractTerms`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Contract:
    number: str
    customer: str
    kind: str
    status: str
    sku: str
    server_count: int
    start_date: date
    end_date: date
    term_months: int
    monthly_rent: Decimal
    cabinet_fee: Decimal
    om_fee: Decimal
    fees_as_agent: bool
    deposit: Decimal
    prepayment: Decimal
    notice_days: int
    auto_renew: bool
    early_termination_months: Decimal
    sla_uptime: Decimal
    vat_rate: Decimal
    fee_vat_rate: Decimal
    committed_gpus: int
    gpu_hour_rate: Decimal
    min_commitment: Decimal
    terminated_on: date | None
    termination_penalty: Decimal | None
    servers: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SlaEvent:
    id: int
    contract: str
    serial: str
    down_from: datetime
    down_until: datetime | None
    reason: str
