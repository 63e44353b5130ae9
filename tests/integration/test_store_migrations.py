"""Migrations: upgrade → `alembic check` (models match) → downgrade to base, on both engines;
and the gate that refuses an unmigrated database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select

from suanli.core.errors import NotMigratedError
from suanli.store.db import (
    alembic_config,
    current_revision,
    downgrade,
    ensure_migrated,
    head_revision,
    make_engine,
    make_session_factory,
    transaction,
    upgrade,
)
from suanli.store.models import SiteRow


def test_upgrade_check_downgrade(blank_db_url: str) -> None:
    engine = make_engine(blank_db_url)
    try:
        with pytest.raises(NotMigratedError) as info:
            ensure_migrated(engine)
        assert info.value.code == "db.not_migrated"
        assert "suanli db upgrade" in info.value.message

        upgrade(engine)
        assert current_revision(engine) == head_revision()
        ensure_migrated(engine)
        command.check(alembic_config(engine))  # raises when models and migrations differ

        downgrade(engine, "base")
        assert current_revision(engine) is None
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


def test_datetimes_come_back_aware_utc(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    shanghai = timezone(timedelta(hours=8))
    when = datetime(2024, 4, 1, 17, 30, tzinfo=shanghai)
    with transaction(sessions) as s:
        s.add(SiteRow(code="x", name="X", created_at=when))
    with transaction(sessions) as s:
        got = s.scalars(select(SiteRow.created_at)).one()
    engine.dispose()
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got == when.astimezone(UTC)


def test_naive_datetimes_are_refused(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    with pytest.raises(Exception, match="naive"), transaction(sessions) as s:
        s.add(SiteRow(code="x", name="X", created_at=datetime(2024, 1, 1)))
        s.flush()
    engine.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/p.db")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()
