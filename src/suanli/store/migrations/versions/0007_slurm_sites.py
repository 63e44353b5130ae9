"""Issue 13: the usage watermark per cluster (``cluster_watermarks``) for incremental polling.

Revision ID: 0007_slurm_sites
Revises: 0005_money_path
Create Date: 2026-12-05 10:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0007_slurm_sites"
down_revision: str | Sequence[str] | None = "0005_money_path"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_watermarks",
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("usage_until", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("cluster", name=op.f("pk_cluster_watermarks")),
    )


def downgrade() -> None:
    op.drop_table("cluster_watermarks")
