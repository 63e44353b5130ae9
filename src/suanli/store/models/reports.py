"""Disclosure tables (issue 19): public announcements, their purchase orders, fund transfers
tagged by funding source, and the archive of generated reports with their restatements.

Single writer: :mod:`suanli.services.reports.ledger`. Figures in ``report_archive`` are stored
as canonical JSON text (sorted keys, amounts as strings to the cent) so that two archives of
the same figures compare equal byte for byte.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from suanli.store.base import Base, Money, UTCDateTime

FUNDING_CHECK = "funding_source IN ('raised', 'own', 'loan')"


class AnnouncementRow(Base):
    """A public announcement of planned capacity (what the market was told)."""

    __tablename__ = "announcements"
    __table_args__ = (
        CheckConstraint("planned_units > 0", name="planned_units_positive"),
        CheckConstraint("planned_p >= 0", name="planned_p_non_negative"),
        CheckConstraint(FUNDING_CHECK, name="funding_source_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    announced_on: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(300))
    planned_units: Mapped[int] = mapped_column(Integer)
    planned_p: Mapped[Decimal] = mapped_column(Numeric(12, 3, asdecimal=True))
    p_convention: Mapped[str] = mapped_column(String(32))
    sku_mix: Mapped[str] = mapped_column(Text)  # canonical JSON {sku: units}
    purpose: Mapped[str] = mapped_column(Text)
    funding_source: Mapped[str] = mapped_column(String(16))
    raised_amount: Mapped[Decimal | None] = mapped_column(Money)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AnnouncementOrderRow(Base):
    """A purchase order placed to deliver an announcement."""

    __tablename__ = "announcement_orders"
    __table_args__ = (UniqueConstraint("announcement_id", "order_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FundTransferRow(Base):
    """Money moved out of a funding source (to a subsidiary, a supplier, a lender ...)."""

    __tablename__ = "fund_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(FUNDING_CHECK, name="funding_source_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(64), unique=True)
    transferred_on: Mapped[date] = mapped_column(Date, index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    funding_source: Mapped[str] = mapped_column(String(16))
    counterparty: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(Text)
    announcement_id: Mapped[int | None] = mapped_column(ForeignKey("announcements.id"))
    disclosed: Mapped[bool] = mapped_column(Boolean)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ReportArchiveRow(Base):
    """One generated report version; version > 1 restates the previous one."""

    __tablename__ = "report_archive"
    __table_args__ = (
        UniqueConstraint("kind", "period", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    figures: Mapped[str] = mapped_column(Text)  # canonical JSON
    inputs_hash: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    restates_id: Mapped[int | None] = mapped_column(ForeignKey("report_archive.id"))
    differences: Mapped[str | None] = mapped_column(Text)  # canonical JSON list
    actor: Mapped[str] = mapped_column(String(128))
