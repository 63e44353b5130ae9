"""Document numbers and the SQLite write lock, shared by leasing, billing and the ledger.

- :func:`next_number` takes the next number of a series (contracts, ``INV-<year>``,
  ``CN-<year>``) from ``invoice_series`` with ``UPDATE ... RETURNING``: the row stays locked until
  the caller's transaction ends, and a rollback returns the number, so series have no gaps.
- :func:`serialise_writes` makes a SQLite transaction take the write lock first
  (``BEGIN IMMEDIATE``), so read-check-write paths are serialised there.
- :func:`lock_customer` serialises the money writes of one customer (credit notes, payments and
  their allocation): PostgreSQL locks the customer row ``FOR UPDATE`` until commit; SQLite already
  holds the database write lock after :func:`serialise_writes`. Every read-check-write on what an
  invoice still owes or may still be credited happens after it, so concurrent desks cannot
  over-credit a line or over-apply cash.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from suanli.store.models import CustomerRow, InvoiceSeriesRow


def serialise_writes(s: Session) -> None:
    """SQLite: take the database write lock now (``BEGIN IMMEDIATE``), before any read.

    PostgreSQL needs nothing here: row locks and the exclusion constraint do the work.
    """
    if s.get_bind().dialect.name == "sqlite":
        s.connection().exec_driver_sql("BEGIN IMMEDIATE")


def lock_customer(s: Session, customer_id: int) -> None:
    """Hold the customer's money lock until the transaction ends (see the module docstring)."""
    if s.get_bind().dialect.name != "sqlite":
        s.execute(select(CustomerRow.id).where(CustomerRow.id == customer_id).with_for_update())


def next_number(s: Session, series: str) -> int:
    """Take the next number of ``series`` (row-locked until commit: gap-free)."""
    stmt = (
        update(InvoiceSeriesRow)
        .where(InvoiceSeriesRow.series == series)
        .values(last_number=InvoiceSeriesRow.last_number + 1)
        .returning(InvoiceSeriesRow.last_number)
    )
    got = s.execute(stmt).scalar_one_or_none()
    if got is None:  # first use of the series: create the counter, tolerating a racing creator
        dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
        s.execute(
            dialect.insert(InvoiceSeriesRow)
            .values(series=series, last_number=0)
            .on_conflict_do_nothing()
        )
        got = s.execute(stmt).scalar_one()
    return int(got)
