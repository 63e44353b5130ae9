"""Issue 8: engine nodes ↔ fleet servers (``cluster_nodes``) and cloud jobs (``cloud_jobs``).

Revision ID: 0003_cluster_jobs
Revises: 0002_leasing_billing
Create Date: 2026-11-26 07:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0003_cluster_jobs"
down_revision: str | Sequence[str] | None = "0002_leasing_billing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("node", sa.String(length=128), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=False),
        sa.Column("gres_type", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["server_id"], ["servers.id"], name=op.f("fk_cluster_nodes_server_id_servers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_nodes")),
        sa.UniqueConstraint("cluster", "node", name=op.f("uq_cluster_nodes_cluster_node")),
        sa.UniqueConstraint("server_id", name=op.f("uq_cluster_nodes_server_id")),
    )
    op.create_table(
        "cloud_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("cluster", sa.String(length=64), nullable=False),
        sa.Column("job_class", sa.String(length=16), nullable=False),
        sa.Column("gpus", sa.Integer(), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("nodes", sa.String(length=1000), nullable=False),
        sa.Column("gpus_per_node", sa.Integer(), nullable=False),
        sa.Column("engine_id", sa.String(length=64), nullable=True),
        sa.Column("engine_name", sa.String(length=64), nullable=False),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("preemptions", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("submitted_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("gpus >= 1", name=op.f("ck_cloud_jobs_gpus_positive")),
        sa.CheckConstraint(
            "job_class IN ('reserved', 'spot')", name=op.f("ck_cloud_jobs_job_class_known")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_cloud_jobs_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cloud_jobs")),
    )
    with op.batch_alter_table("cloud_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cloud_jobs_customer_id"), ["customer_id"])
        batch_op.create_index(batch_op.f("ix_cloud_jobs_state"), ["state"])


def downgrade() -> None:
    with op.batch_alter_table("cloud_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cloud_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_cloud_jobs_customer_id"))
    op.drop_table("cloud_jobs")
    op.drop_table("cluster_nodes")
