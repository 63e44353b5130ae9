"""Issue 12: exact money on SQLite. Amount columns (``ExactMoney``) hold integer cents there.

SQLite's NUMERIC affinity stored amounts as 8-byte floats (15 significant digits:
99999999999999.99 read back as ...98). From this revision an amount on SQLite is an INTEGER
count of cents; the declared column type stays NUMERIC(18, 2), so no table is rebuilt: the
upgrade rewrites the stored values, the downgrade turns them back into floats. The ledger's
immutability triggers are lifted for the rewrite and recreated from their own SQL.
PostgreSQL's NUMERIC(18, 2) is already exact: nothing changes there.

Revision ID: 0005_money_path
Revises: 0003_cluster_jobs
Create Date: 2026-12-05 10:20:00

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_money_path"
down_revision: str | Sequence[str] | None = "0003_cluster_jobs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AMOUNTS: dict[str, tuple[str, ...]] = {
    "invoices": ("net", "tax", "gross"),
    "invoice_lines": ("net", "tax", "gross"),
    "payments": ("amount",),
    "payment_allocations": ("amount",),
    "servers": ("purchase_price",),
    "contracts": (
        "monthly_rent",
        "cabinet_fee",
        "om_fee",
        "deposit",
        "prepayment",
        "termination_penalty",
    ),
    "purchase_order_lines": ("unit_price",),
}


def _rewrite(expression: str) -> None:
    """Apply ``expression`` (``{c}`` is the column) to every amount, triggers lifted meanwhile."""
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    names = ", ".join(f"'{t}'" for t in AMOUNTS)
    triggers = conn.exec_driver_sql(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({names})"
    ).all()
    for name, _ in triggers:
        conn.exec_driver_sql(f"DROP TRIGGER {name}")
    for table, columns in AMOUNTS.items():
        sets = ", ".join(f"{c} = {expression.format(c=c)}" for c in columns)
        conn.exec_driver_sql(f"UPDATE {table} SET {sets}")
    for _, sql in triggers:
        conn.exec_driver_sql(sql)


def upgrade() -> None:
    _rewrite("CAST(ROUND({c} * 100) AS INTEGER)")


def downgrade() -> None:
    _rewrite("{c} / 100.0")
