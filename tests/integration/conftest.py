"""Database fixtures for integration suites: every test here runs on SQLite and PostgreSQL.

``db_url`` is parametrised over ``sqlite`` (a copy of a migrated template file per test) and
``postgres`` (the session database of ``pg_url``, migrated once, tables truncated after each
test). Tests that need an empty, unmigrated database use ``blank_db_url``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from pg_databases import fresh_pg_database
from suanli.cli.main import main
from suanli.core.clock import SimClock
from suanli.store import models  # noqa: F401  (all tables on Base.metadata)
from suanli.store.base import Base
from suanli.store.db import SessionFactory, make_engine, make_session_factory, upgrade

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_migrated_url(pg_url: str) -> str:
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    return pg_url


def _truncate_all(url: str) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of a migrated, empty database on the parametrised engine."""
    if request.param == "sqlite":
        path = tmp_path / "suanli.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_migrated_url")
    try:
        yield url
    finally:
        _truncate_all(url)


@pytest.fixture(params=ENGINES)
def blank_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """URL of an empty database without any schema (a fresh PostgreSQL database per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    with fresh_pg_database("suanli_blank") as url:
        yield url


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> SessionFactory:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> SimClock:
    return SimClock(datetime(2024, 4, 1, 9, 0, tzinfo=UTC))


Bearer = Callable[..., dict[str, str]]


@pytest.fixture
def bearer() -> Bearer:
    """``bearer(app, name, role, customer=None)``: creates the user on ``app``'s database and
    returns the ``Authorization`` header of a fresh token."""

    def make(app: Any, name: str, role: str, customer: str | None = None) -> dict[str, str]:
        tenancy = app.state.services.money.tenancy
        tenancy.create_user(name, role, customer)
        return {"Authorization": f"Bearer {tenancy.issue_token(name).secret}"}

    return make


@pytest.fixture
def cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run ``suanli ARGS...`` in-process on a fresh SQLite file: (exit code, stdout, stderr)."""
    monkeypatch.setenv("SUANLI_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")

    def run(*argv: str) -> tuple[int, str, str]:
        try:
            main(list(argv))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return run
