"""Alembic environment. Uses the engine passed in ``config.attributes["engine"]`` (tests, CLI)
or the ``sqlalchemy.url`` option. Batch mode is on so SQLite can alter tables."""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, Numeric

from suanli.store import models  # noqa: F401  (registers every table on Base.metadata)
from suanli.store.base import Base, ExactMoney
from suanli.store.db import make_engine

config = context.config
target_metadata = Base.metadata


def _compare_type(
    _ctx: Any, _inspected: Any, _column: Any, inspected_type: Any, metadata_type: Any
) -> bool | None:
    """``ExactMoney`` is declared NUMERIC(18, 2) on every engine (SQLite only stores cents in
    it); any other type is compared by Alembic's default rules."""
    if isinstance(metadata_type, ExactMoney):
        same = isinstance(inspected_type, Numeric) and (
            inspected_type.precision,
            inspected_type.scale,
        ) == (18, 2)
        return not same
    return None


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=_compare_type,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is not None:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
        return
    url = config.get_main_option("sqlalchemy.url")
    assert url, "alembic needs an engine or sqlalchemy.url"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; use `suanli db upgrade`")
run_migrations_online()
