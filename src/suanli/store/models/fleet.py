"""Fleet tables: sites, cabinets, servers and the append-only server transition log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suanli.store.base import Base, Money, Power, UTCDateTime

if TYPE_CHECKING:
    from suanli.store.models.procurement import PurchaseOrderLineRow, SupplierRow


class SiteRow(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    cabinets: Mapped[list[CabinetRow]] = relationship(back_populates="site")


class CabinetRow(Base):
    __tablename__ = "cabinets"
    __table_args__ = (
        UniqueConstraint("site_id", "code"),
        CheckConstraint("power_budget_kw > 0", name="power_budget_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    power_budget_kw: Mapped[Decimal] = mapped_column(Power)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    site: Mapped[SiteRow] = relationship(back_populates="cabinets")


class ServerRow(Base):
    __tablename__ = "servers"
    __table_args__ = (CheckConstraint("gpu_count > 0", name="gpu_count_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(128), unique=True)
    sku: Mapped[str] = mapped_column(String(64), index=True)
    gpu_count: Mapped[int] = mapped_column(Integer)
    nameplate_kw: Mapped[Decimal] = mapped_column(Power)
    state: Mapped[str] = mapped_column(String(32), index=True)
    purchase_price: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)
    po_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("purchase_order_lines.id"), index=True
    )
    cabinet_id: Mapped[int | None] = mapped_column(ForeignKey("cabinets.id"), index=True)
    network_group: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    cabinet: Mapped[CabinetRow | None] = relationship()
    supplier: Mapped[SupplierRow | None] = relationship()
    po_line: Mapped[PurchaseOrderLineRow | None] = relationship()


class ServerTransitionRow(Base):
    """One lifecycle step of a server: who moved it, when and why. Append-only."""

    __tablename__ = "server_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    server_id: Mapped[int] = mapped_column(ForeignKey("servers.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)  # effective (business) time
    cabinet_id: Mapped[int | None] = mapped_column(ForeignKey("cabinets.id"))
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # audit: the wall clock

    server: Mapped[ServerRow] = relationship()
