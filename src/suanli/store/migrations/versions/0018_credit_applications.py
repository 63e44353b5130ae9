"""Issue 12: a customer credit balance is applied to a later invoice or refunded.

Revision ID: 0018_credit_applications
Revises: 0017_credit_releases
Create Date: 2026-12-06 03:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0018_credit_applications"
down_revision: str | Sequence[str] | None = "0017_credit_releases"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_applications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_credit_applications_amount_positive")),
        sa.CheckConstraint(
            "(kind = 'applied' AND invoice_id IS NOT NULL) OR (kind = 'refund' AND invoice_id IS NULL)",
            name=op.f("ck_credit_applications_kind_matches_invoice"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_credit_applications_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_applications_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_applications")),
    )
    with op.batch_alter_table("credit_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_applications_customer_id"), ["customer_id"])
        batch_op.create_index(batch_op.f("ix_credit_applications_invoice_id"), ["invoice_id"])
        batch_op.create_index(batch_op.f("ix_credit_applications_applied_on"), ["applied_on"])


def downgrade() -> None:
    with op.batch_alter_table("credit_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_applications_applied_on"))
        batch_op.drop_index(batch_op.f("ix_credit_applications_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_credit_applications_customer_id"))
    op.drop_table("credit_applications")
