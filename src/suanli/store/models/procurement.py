"""Procurement tables: suppliers, purchase orders, their lines, and deliveries per serial."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suanli.store.base import Base, Money, UTCDateTime

if TYPE_CHECKING:
    from suanli.store.models.fleet import ServerRow


class SupplierRow(Base):
    __tablename__ = "suppliers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PurchaseOrderRow(Base):
    __tablename__ = "purchase_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    ordered_on: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)
    # raised | own | loan (issue 19); written only by services.reports.ledger.set_order_funding
    funding_source: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    supplier: Mapped[SupplierRow] = relationship()
    lines: Mapped[list[PurchaseOrderLineRow]] = relationship(
        back_populates="order", order_by="PurchaseOrderLineRow.line_no"
    )


class PurchaseOrderLineRow(Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price >= 0", name="unit_price_non_negative"),
        CheckConstraint(
            "cancelled_quantity >= 0 AND cancelled_quantity <= quantity",
            name="cancelled_within_quantity",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    promised_on: Mapped[date] = mapped_column(Date)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(Text)

    order: Mapped[PurchaseOrderRow] = relationship(back_populates="lines")
    deliveries: Mapped[list[DeliveryRow]] = relationship(back_populates="line")


class DeliveryRow(Base):
    """One server received against a purchase-order line (deliveries are recorded per serial)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_lines.id"), index=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id"), unique=True)
    serial: Mapped[str] = mapped_column(String(128), unique=True)
    delivered_on: Mapped[date] = mapped_column(Date, index=True)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    line: Mapped[PurchaseOrderLineRow] = relationship(back_populates="deliveries")
    server: Mapped[ServerRow] = relationship()
