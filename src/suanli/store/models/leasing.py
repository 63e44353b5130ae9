"""Leasing and metering tables: contracts, server allocations, SLA downtime, the on-demand price
list and metered usage.

Invariants the database itself enforces (see migration ``0002_leasing_billing``):

- A server is in at most one allocation at any instant. PostgreSQL: the exclusion constraint
  ``ex_lease_allocations_no_overlap`` (``server_id WITH =, tstzrange(starts_at, ends_at) WITH &&``,
  extension ``btree_gist``). SQLite: the trigger ``tr_lease_allocations_no_overlap`` aborts an
  overlapping insert or update, and the leasing service takes the write lock first
  (``BEGIN IMMEDIATE``) so allocations are serialised.
- ``usage_records.event_id`` is unique: ingestion is ``INSERT ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suanli.store.base import Base, Money, Rate, UTCDateTime
from suanli.store.models.tenancy import CustomerRow

Ratio = Numeric(6, 4, asdecimal=True)
Quantity = Numeric(20, 3, asdecimal=True)


class ContractRow(Base):
    __tablename__ = "contracts"
    __table_args__ = (
        CheckConstraint("kind IN ('lease', 'reserved')", name="kind_known"),
        CheckConstraint("status IN ('active', 'terminated', 'ended')", name="status_known"),
        CheckConstraint("end_date > start_date", name="end_after_start"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    server_count: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    term_months: Mapped[int] = mapped_column(Integer)
    end_date: Mapped[date] = mapped_column(Date)
    monthly_rent: Mapped[Decimal] = mapped_column(Money)
    cabinet_fee: Mapped[Decimal] = mapped_column(Money)
    om_fee: Mapped[Decimal] = mapped_column(Money)
    fees_as_agent: Mapped[bool] = mapped_column(Boolean)
    deposit: Mapped[Decimal] = mapped_column(Money)
    prepayment: Mapped[Decimal] = mapped_column(Money)
    notice_days: Mapped[int] = mapped_column(Integer)
    auto_renew: Mapped[bool] = mapped_column(Boolean)
    renewal_months: Mapped[int] = mapped_column(Integer)
    early_termination_months: Mapped[Decimal] = mapped_column(Ratio)
    sla_uptime: Mapped[Decimal] = mapped_column(Ratio)
    vat_rate: Mapped[Decimal] = mapped_column(Ratio)
    fee_vat_rate: Mapped[Decimal] = mapped_column(Ratio)
    committed_gpus: Mapped[int] = mapped_column(Integer)
    gpu_hour_rate: Mapped[Decimal] = mapped_column(Rate)
    min_commitment: Mapped[Decimal] = mapped_column(Ratio)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    termination_penalty: Mapped[Decimal | None] = mapped_column(Money)
    #: the day the termination was agreed (issue 19: reports of periods before it ignore it)
    termination_agreed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    customer: Mapped[CustomerRow] = relationship()


class LeaseAllocationRow(Base):
    """One server held by one lease contract over ``[starts_at, ends_at)``.

    ``delivered_at`` is when the server entered service for the customer (``leased``); a server
    named by serial that has not been delivered yet has none and earns nothing until then.
    """

    __tablename__ = "lease_allocations"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SlaEventRow(Base):
    """Downtime of a leased server, ``[down_from, down_until)``; open while ``down_until`` is null."""

    __tablename__ = "sla_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    allocation_id: Mapped[int] = mapped_column(ForeignKey("lease_allocations.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id"))
    down_from: Mapped[datetime] = mapped_column(UTCDateTime())
    down_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)


class PriceRow(Base):
    """On-demand GPU-hour price of a SKU and priority class from ``valid_from`` on."""

    __tablename__ = "prices"
    __table_args__ = (UniqueConstraint("sku", "priority_class", "valid_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    priority_class: Mapped[str] = mapped_column(String(32))
    gpu_hour_price: Mapped[Decimal] = mapped_column(Rate)
    vat_rate: Mapped[Decimal] = mapped_column(Ratio)
    valid_from: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UsageRecordRow(Base):
    """Metered GPU-seconds of one job of one customer over ``[started_at, ended_at)``.

    ``invoice_id`` is set by the invoice run that billed the record; a record arriving after its
    month was invoiced is billed by the next run (and recognised in the month it occurred).
    """

    __tablename__ = "usage_records"
    __table_args__ = (
        CheckConstraint("gpu_seconds >= 0", name="gpu_seconds_non_negative"),
        Index("ix_usage_records_customer_started", "customer_id", "started_at"),
        Index("ix_usage_records_started_id", "started_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(128), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    sku: Mapped[str] = mapped_column(String(64))
    priority_class: Mapped[str] = mapped_column(String(32))
    job_id: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime())
    gpu_seconds: Mapped[Decimal] = mapped_column(Quantity)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)


class ContractRenewalRow(Base):
    """One renewal of a lease: the dated record of ``previous_end → new_end`` (issue 19).

    Written by :meth:`suanli.services.billing.leasing.LeasingService.renew` (``automatic`` false,
    ``renewed_on`` the day the renewal was agreed) and by the end-of-term auto-renewal
    (``automatic`` true, ``renewed_on`` the old end date, when the new term begins).
    """

    __tablename__ = "contract_renewals"
    __table_args__ = (
        CheckConstraint("months > 0", name="months_positive"),
        CheckConstraint("new_end > previous_end", name="extends_term"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    renewed_on: Mapped[date] = mapped_column(Date, index=True)
    months: Mapped[int] = mapped_column(Integer)
    previous_end: Mapped[date] = mapped_column(Date)
    new_end: Mapped[date] = mapped_column(Date)
    automatic: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
