"""Issue 11: a cloud job's nodes move from a comma-joined string to ``cloud_job_nodes`` (one row
per node, in placement order); existing placements are copied over and back.

Revision ID: 0009_job_nodes
Revises: 0008_reports
Create Date: 2026-12-05 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_job_nodes"
down_revision: str | Sequence[str] | None = "0008_reports"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_jobs = sa.table("cloud_jobs", sa.column("id", sa.Integer()), sa.column("nodes", sa.String()))
_nodes = sa.table(
    "cloud_job_nodes",
    sa.column("job_id", sa.Integer()),
    sa.column("position", sa.Integer()),
    sa.column("node", sa.String()),
)


def upgrade() -> None:
    # read the lists, then recreate cloud_jobs without them (SQLite batch mode drops the table,
    # which a table referencing it would forbid), then create and fill the child table
    bind = op.get_bind()
    rows = [
        {"job_id": job_id, "position": i, "node": node}
        for job_id, joined in bind.execute(sa.select(_jobs.c.id, _jobs.c.nodes))
        for i, node in enumerate(n for n in (joined or "").split(",") if n)
    ]
    with op.batch_alter_table("cloud_jobs", schema=None) as batch_op:
        batch_op.drop_column("nodes")
    op.create_table(
        "cloud_job_nodes",
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["cloud_jobs.id"], name=op.f("fk_cloud_job_nodes_job_id_cloud_jobs")
        ),
        sa.PrimaryKeyConstraint("job_id", "position", name=op.f("pk_cloud_job_nodes")),
    )
    with op.batch_alter_table("cloud_job_nodes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cloud_job_nodes_node"), ["node"])
    if rows:
        bind.execute(_nodes.insert(), rows)


def downgrade() -> None:
    bind = op.get_bind()
    joined: dict[int, list[str]] = {}
    order = sa.select(_nodes.c.job_id, _nodes.c.node).order_by(_nodes.c.job_id, _nodes.c.position)
    for job_id, node in bind.execute(order):
        joined.setdefault(job_id, []).append(node)
    with op.batch_alter_table("cloud_job_nodes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cloud_job_nodes_node"))
    op.drop_table("cloud_job_nodes")
    with op.batch_alter_table("cloud_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("nodes", sa.String(length=1000), nullable=False, server_default="")
        )
    for job_id, names in joined.items():
        bind.execute(_jobs.update().where(_jobs.c.id == job_id).values(nodes=",".join(names)))
    with op.batch_alter_table("cloud_jobs", schema=None) as batch_op:
        batch_op.alter_column("nodes", server_default=None)
