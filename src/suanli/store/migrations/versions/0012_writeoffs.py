"""Issue 19: dated lease renewals, receivable write-offs, and the day a termination was agreed.

Revision ID: 0012_writeoffs
Revises: 0016_watch_polls
Create Date: 2026-12-05 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0012_writeoffs"
down_revision: str | Sequence[str] | None = "0016_watch_polls"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("termination_agreed_on", sa.Date(), nullable=True))
    op.create_table(
        "contract_renewals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("renewed_on", sa.Date(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("previous_end", sa.Date(), nullable=False),
        sa.Column("new_end", sa.Date(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("months > 0", name=op.f("ck_contract_renewals_months_positive")),
        sa.CheckConstraint(
            "new_end > previous_end", name=op.f("ck_contract_renewals_extends_term")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_renewals_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_renewals")),
    )
    with op.batch_alter_table("contract_renewals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contract_renewals_contract_id"), ["contract_id"])
        batch_op.create_index(batch_op.f("ix_contract_renewals_renewed_on"), ["renewed_on"])
    op.create_table(
        "receivable_write_offs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("written_off_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_receivable_write_offs_amount_positive")),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_receivable_write_offs_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_receivable_write_offs_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receivable_write_offs")),
    )
    with op.batch_alter_table("receivable_write_offs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receivable_write_offs_invoice_id"), ["invoice_id"])
        batch_op.create_index(batch_op.f("ix_receivable_write_offs_customer_id"), ["customer_id"])
        batch_op.create_index(
            batch_op.f("ix_receivable_write_offs_written_off_on"), ["written_off_on"]
        )


def downgrade() -> None:
    with op.batch_alter_table("receivable_write_offs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receivable_write_offs_written_off_on"))
        batch_op.drop_index(batch_op.f("ix_receivable_write_offs_customer_id"))
        batch_op.drop_index(batch_op.f("ix_receivable_write_offs_invoice_id"))
    op.drop_table("receivable_write_offs")
    with op.batch_alter_table("contract_renewals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_renewals_renewed_on"))
        batch_op.drop_index(batch_op.f("ix_contract_renewals_contract_id"))
    op.drop_table("contract_renewals")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_column("termination_agreed_on")
