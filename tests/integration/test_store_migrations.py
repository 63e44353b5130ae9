"""Migrations: upgrade → `alembic check` (models match) → downgrade to base, on both engines;
and the gate that refuses an unmigrated database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, Table, inspect, select, text

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


def test_job_nodes_move_to_their_table_and_back(blank_db_url: str) -> None:
    """0009: a comma-joined node list becomes one row per node, in order; downgrade joins them."""
    engine = make_engine(blank_db_url)
    try:
        upgrade(engine, "0008_reports")
        meta = MetaData()
        customers = Table("customers", meta, autoload_with=engine)
        jobs = Table("cloud_jobs", meta, autoload_with=engine)
        at = datetime(2024, 4, 1, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                customers.insert(),
                {"id": 1, "code": "acme", "name": "Acme", "payment_terms_days": 30,
                 "created_at": at},
            )  # fmt: skip
            for job_id, nodes in ((1, "gn2,gn1"), (2, "")):
                conn.execute(
                    jobs.insert(),
                    {"id": job_id, "customer_id": 1, "cluster": "dev", "job_class": "spot",
                     "gpus": 16, "command": "x", "state": "running", "nodes": nodes,
                     "gpus_per_node": 8, "engine_name": f"j{job_id}", "restarts": 0,
                     "preemptions": 0, "reason": "", "submitted_at": at, "updated_at": at},
                )  # fmt: skip
        upgrade(engine, "0009_job_nodes")
        with engine.connect() as conn:
            got = conn.execute(
                text("SELECT job_id, position, node FROM cloud_job_nodes ORDER BY job_id, position")
            ).all()
        assert [tuple(r) for r in got] == [(1, 0, "gn2"), (1, 1, "gn1")]
        downgrade(engine, "0008_reports")
        with engine.connect() as conn:
            back = conn.execute(text("SELECT id, nodes FROM cloud_jobs ORDER BY id")).all()
        assert [tuple(r) for r in back] == [(1, "gn2,gn1"), (2, "")]
    finally:
        engine.dispose()
