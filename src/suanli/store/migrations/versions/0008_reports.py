"""Issue 19: announcements, their purchase orders, fund transfers, the report archive, and a
funding source on purchase orders.

Revision ID: 0008_reports
Revises: 0007_slurm_sites
Create Date: 2026-12-05 10:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0008_reports"
down_revision: str | Sequence[str] | None = "0007_slurm_sites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNDING_CHECK = "funding_source IN ('raised', 'own', 'loan')"


def upgrade() -> None:
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("funding_source", sa.String(length=16), nullable=True))
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("announced_on", sa.Date(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("planned_units", sa.Integer(), nullable=False),
        sa.Column("planned_p", sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column("p_convention", sa.String(length=32), nullable=False),
        sa.Column("sku_mix", sa.Text(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("funding_source", sa.String(length=16), nullable=False),
        sa.Column("raised_amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "planned_units > 0", name=op.f("ck_announcements_planned_units_positive")
        ),
        sa.CheckConstraint("planned_p >= 0", name=op.f("ck_announcements_planned_p_non_negative")),
        sa.CheckConstraint(FUNDING_CHECK, name=op.f("ck_announcements_funding_source_known")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcements")),
        sa.UniqueConstraint("ref", name=op.f("uq_announcements_ref")),
    )
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_announcements_announced_on"), ["announced_on"])
    op.create_table(
        "announcement_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_announcement_orders_announcement_id_announcements"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_orders.id"],
            name=op.f("fk_announcement_orders_order_id_purchase_orders"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_announcement_orders")),
        sa.UniqueConstraint(
            "announcement_id",
            "order_id",
            name=op.f("uq_announcement_orders_announcement_id_order_id"),
        ),
    )
    with op.batch_alter_table("announcement_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_announcement_orders_announcement_id"), ["announcement_id"]
        )
        batch_op.create_index(batch_op.f("ix_announcement_orders_order_id"), ["order_id"])
    op.create_table(
        "fund_transfers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("transferred_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("funding_source", sa.String(length=16), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("announcement_id", sa.Integer(), nullable=True),
        sa.Column("disclosed", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_fund_transfers_amount_positive")),
        sa.CheckConstraint(FUNDING_CHECK, name=op.f("ck_fund_transfers_funding_source_known")),
        sa.ForeignKeyConstraint(
            ["announcement_id"],
            ["announcements.id"],
            name=op.f("fk_fund_transfers_announcement_id_announcements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fund_transfers")),
        sa.UniqueConstraint("ref", name=op.f("uq_fund_transfers_ref")),
    )
    with op.batch_alter_table("fund_transfers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fund_transfers_transferred_on"), ["transferred_on"])
    op.create_table(
        "report_archive",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("generated_at", UTCDateTime(), nullable=False),
        sa.Column("restates_id", sa.Integer(), nullable=True),
        sa.Column("differences", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.CheckConstraint("version >= 1", name=op.f("ck_report_archive_version_positive")),
        sa.ForeignKeyConstraint(
            ["restates_id"],
            ["report_archive.id"],
            name=op.f("fk_report_archive_restates_id_report_archive"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_archive")),
        sa.UniqueConstraint(
            "kind", "period", "version", name=op.f("uq_report_archive_kind_period_version")
        ),
    )
    with op.batch_alter_table("report_archive", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_archive_period"), ["period"])


def downgrade() -> None:
    with op.batch_alter_table("report_archive", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_archive_period"))
    op.drop_table("report_archive")
    with op.batch_alter_table("fund_transfers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fund_transfers_transferred_on"))
    op.drop_table("fund_transfers")
    with op.batch_alter_table("announcement_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcement_orders_order_id"))
        batch_op.drop_index(batch_op.f("ix_announcement_orders_announcement_id"))
    op.drop_table("announcement_orders")
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_announcements_announced_on"))
    op.drop_table("announcements")
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_column("funding_source")
