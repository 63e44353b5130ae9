"""Issue 12: credit notes on paid invoices release the excess as a recorded customer credit.

Revision ID: 0017_credit_releases
Revises: 0010_effective_dates
Create Date: 2026-12-06 01:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0017_credit_releases"
down_revision: str | Sequence[str] | None = "0010_effective_dates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("credit_note_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("released_on", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_credit_releases_amount_positive")),
        sa.CheckConstraint(
            "kind IN ('overpayment', 'written_off')", name=op.f("ck_credit_releases_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_credit_releases_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["credit_note_id"],
            ["invoices.id"],
            name=op.f("fk_credit_releases_credit_note_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_credit_releases_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_releases")),
    )
    with op.batch_alter_table("credit_releases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credit_releases_invoice_id"), ["invoice_id"])
        batch_op.create_index(batch_op.f("ix_credit_releases_credit_note_id"), ["credit_note_id"])
        batch_op.create_index(batch_op.f("ix_credit_releases_customer_id"), ["customer_id"])
        batch_op.create_index(batch_op.f("ix_credit_releases_released_on"), ["released_on"])


def downgrade() -> None:
    with op.batch_alter_table("credit_releases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credit_releases_released_on"))
        batch_op.drop_index(batch_op.f("ix_credit_releases_customer_id"))
        batch_op.drop_index(batch_op.f("ix_credit_releases_credit_note_id"))
        batch_op.drop_index(batch_op.f("ix_credit_releases_invoice_id"))
    op.drop_table("credit_releases")
