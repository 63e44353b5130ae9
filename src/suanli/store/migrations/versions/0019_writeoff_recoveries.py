"""Issue 19: recoveries of receivables written off (the write-off is reinstated, gross).

Revision ID: 0019_writeoff_recoveries
Revises: 0018_credit_applications
Create Date: 2026-12-06 03:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0019_writeoff_recoveries"
down_revision: str | Sequence[str] | None = "0018_credit_applications"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "receivable_recoveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("write_off_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("recovered_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_receivable_recoveries_amount_positive")),
        sa.ForeignKeyConstraint(
            ["write_off_id"],
            ["receivable_write_offs.id"],
            name=op.f("fk_receivable_recoveries_write_off_id_receivable_write_offs"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_receivable_recoveries_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_receivable_recoveries_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivable_recoveries")),
    )
    with op.batch_alter_table("receivable_recoveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receivable_recoveries_write_off_id"), ["write_off_id"])
        batch_op.create_index(batch_op.f("ix_receivable_recoveries_invoice_id"), ["invoice_id"])
        batch_op.create_index(batch_op.f("ix_receivable_recoveries_customer_id"), ["customer_id"])
        batch_op.create_index(batch_op.f("ix_receivable_recoveries_recovered_on"), ["recovered_on"])


def downgrade() -> None:
    with op.batch_alter_table("receivable_recoveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receivable_recoveries_recovered_on"))
        batch_op.drop_index(batch_op.f("ix_receivable_recoveries_customer_id"))
        batch_op.drop_index(batch_op.f("ix_receivable_recoveries_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_receivable_recoveries_write_off_id"))
    op.drop_table("receivable_recoveries")
