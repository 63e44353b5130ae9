"""Issue 12: lifecycle transitions carry their effective time in ``at`` and the wall clock of
the write in ``recorded_at`` (the audit timestamp). Rows written before keep ``recorded_at`` =
``at``, which is what they were.

Revision ID: 0010_effective_dates
Revises: 0011_token_billing
Create Date: 2026-12-05 13:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from suanli.store.base import UTCDateTime

revision: str = "0010_effective_dates"
down_revision: str | Sequence[str] | None = "0011_token_billing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("server_transitions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE server_transitions SET recorded_at = at")


def downgrade() -> None:
    with op.batch_alter_table("server_transitions", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")
