"""Issue 15: the inference price list (CNY per million tokens by tier, night discount, versioned
by validity date) and token usage records (idempotent by event id, billed by the invoice run).

Revision ID: 0011_token_billing
Revises: 0012_writeoffs
Create Date: 2026-12-05 12:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0011_token_billing"
down_revision: str | Sequence[str] | None = "0012_writeoffs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inference_prices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("input_miss_per_m", sa.Numeric(precision=20, scale=8), nullable=False),
        sa.Column("input_hit_per_m", sa.Numeric(precision=20, scale=8), nullable=False),
        sa.Column("output_per_m", sa.Numeric(precision=20, scale=8), nullable=False),
        sa.Column("night_discount", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("night_start", sa.Time(), nullable=False),
        sa.Column("night_end", sa.Time(), nullable=False),
        sa.Column("utc_offset_minutes", sa.Integer(), nullable=False),
        sa.Column("vat_rate", sa.Numeric(precision=6, scale=4), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "input_miss_per_m >= 0 AND input_hit_per_m >= 0 AND output_per_m >= 0",
            name=op.f("ck_inference_prices_prices_non_negative"),
        ),
        sa.CheckConstraint(
            "night_discount >= 0 AND night_discount <= 1",
            name=op.f("ck_inference_prices_discount_fraction"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inference_prices")),
        sa.UniqueConstraint(
            "model", "valid_from", name=op.f("uq_inference_prices_model_valid_from")
        ),
    )
    op.create_table(
        "token_usage_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cache_hit_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("ingested_at", UTCDateTime(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "input_tokens >= 0 AND cache_hit_tokens >= 0 AND output_tokens >= 0",
            name=op.f("ck_token_usage_records_tokens_non_negative"),
        ),
        sa.CheckConstraint(
            "cache_hit_tokens <= input_tokens",
            name=op.f("ck_token_usage_records_hits_within_input"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_token_usage_records_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"],
            ["invoices.id"],
            name=op.f("fk_token_usage_records_invoice_id_invoices"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_token_usage_records")),
        sa.UniqueConstraint("event_id", name=op.f("uq_token_usage_records_event_id")),
    )
    with op.batch_alter_table("token_usage_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_token_usage_records_customer_started", ["customer_id", "started_at"]
        )
        batch_op.create_index("ix_token_usage_records_started_id", ["started_at", "id"])
        batch_op.create_index(batch_op.f("ix_token_usage_records_invoice_id"), ["invoice_id"])


def downgrade() -> None:
    with op.batch_alter_table("token_usage_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_usage_records_invoice_id"))
        batch_op.drop_index("ix_token_usage_records_started_id")
        batch_op.drop_index("ix_token_usage_records_customer_started")
    op.drop_table("token_usage_records")
    op.drop_table("inference_prices")
