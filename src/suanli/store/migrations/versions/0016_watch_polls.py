"""Issue 16: ``cluster_polls``, when the failure watcher last polled each cluster (the
dashboard's stale-watcher alert).

Revision ID: 0016_watch_polls
Revises: 0009_job_nodes
Create Date: 2026-12-05 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0016_watch_polls"
down_revision: str | Sequence[str] | None = "0009_job_nodes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_polls",
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("polled_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("cluster", name=op.f("pk_cluster_polls")),
    )


def downgrade() -> None:
    op.drop_table("cluster_polls")
