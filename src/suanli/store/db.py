"""Engines, sessions, transactions and the migration gate.

- :func:`make_engine` builds an engine from a URL. SQLite gets ``journal_mode=WAL`` (file
  databases), ``foreign_keys=ON`` and a busy timeout on every connection; ``postgresql://`` URLs
  are routed to psycopg 3 (``postgresql+psycopg://``).
- :func:`transaction` is the one unit of work: commit on success, roll back on any exception,
  so a failed write path leaves nothing behind.
- :func:`ensure_migrated` refuses a database whose schema is not at the head revision
  (:class:`~suanli.core.errors.NotMigratedError`, code ``db.not_migrated``). The API and every
  DB-using CLI command call it; ``suanli db upgrade|current`` do not.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from suanli.core.errors import NotMigratedError, ValidationError

SessionFactory = sessionmaker[Session]


def normalise_url(url: str) -> str:
    """Route plain ``postgresql://`` / ``postgres://`` URLs to the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the project's per-dialect settings."""
    url = normalise_url(url)
    try:
        parsed = make_url(url)
    except Exception:
        raise ValidationError(
            "db.invalid_url", f"not a database URL: {url!r}", {"database_url": "a SQLAlchemy URL"}
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_driver_name() == "psycopg" and importlib.util.find_spec("psycopg") is None:
        raise ValidationError(
            "db.postgres_missing",
            "PostgreSQL needs psycopg, which is not installed: pip install 'suanli[postgres]'",
            {"database_url": "sqlite:///... or install the postgres extra"},
        )
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_session_factory(engine: Engine) -> SessionFactory:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: SessionFactory) -> Iterator[Session]:
    """One unit of work: yields a session, commits on success, rolls back on any error."""
    session = sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


# --- migrations --------------------------------------------------------------------------


def alembic_config(engine_or_url: Engine | str) -> Config:
    """Alembic configuration whose script location is inside the installed package."""
    location = resources.files("suanli.store").joinpath("migrations")
    cfg = Config()
    cfg.set_main_option("script_location", str(location))
    if isinstance(engine_or_url, str):
        cfg.set_main_option("sqlalchemy.url", normalise_url(engine_or_url).replace("%", "%%"))
    else:
        cfg.attributes["engine"] = engine_or_url
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    command.downgrade(alembic_config(engine), revision)


def ensure_migrated(engine: Engine) -> None:
    """Raise :class:`NotMigratedError` unless the database is at the head revision."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        state = "has no schema" if current is None else f"is at revision {current}"
        raise NotMigratedError(
            "db.not_migrated",
            f"the database {state}, the code expects {head}: run `suanli db upgrade`",
            {"revision": head},
        )
