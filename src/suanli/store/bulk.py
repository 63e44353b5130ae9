"""Bulk INSERT for hot import paths, one statement per batch on either engine.

PostgreSQL: ``INSERT ... SELECT * FROM unnest(%b::type[], ...)`` with each column sent as one
binary array (no giant ``VALUES`` list for the driver to split and the server to parse).
SQLite: SQLAlchemy Core executemany (its multi-row "insertmanyvalues" batches). Both run on the
caller's connection, inside the caller's transaction. Values go to the driver as they are
(Decimal, aware datetimes, None), so only tables whose column types need no conversion on
PostgreSQL belong here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table, insert


def insert_rows(
    conn: Connection,
    table: Table,
    pg_types: Mapping[str, str],
    rows: Sequence[Mapping[str, Any]],
    returning: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """Insert ``rows`` (all with the keys of ``pg_types``) into ``table``; the ``returning``
    columns of each inserted row, in no particular order."""
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        stmt = insert(table)
        if returning:
            result = conn.execute(stmt.returning(*(table.c[c] for c in returning)), list(rows))
            return [tuple(r) for r in result]
        conn.execute(stmt, list(rows))
        return []
    names = list(pg_types)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"SELECT * FROM unnest({', '.join(f'%b::{pg_types[n]}[]' for n in names)})"
        + (f" RETURNING {', '.join(returning)}" if returning else "")
    )
    driver: Any = conn.connection.driver_connection  # psycopg 3, same transaction
    with driver.cursor() as cur:
        cur.execute(sql, tuple([row[n] for row in rows] for n in names))
        return [tuple(r) for r in cur.fetchall()] if returning else []
