"""Declarative base, column types and the constraint naming convention of every ORM model.

- :class:`UTCDateTime` stores timezone-aware datetimes and always returns aware UTC values
  (SQLite keeps no zone, so values are normalised to UTC on the way in and tagged on the way out).
  Naive datetimes are refused: the domain never produces them.
- :data:`Money` is ``Numeric(18, 2)`` (amounts, quantised to the minor unit);
  :data:`Rate` is ``Numeric(20, 8)`` (unit rates such as a GPU-hour price);
  :data:`Power` is ``Numeric(10, 3)`` (kW).
- The naming convention gives every constraint a stable name, which Alembic's batch mode on
  SQLite needs to alter or drop it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2, asdecimal=True)
Rate = Numeric(20, 8, asdecimal=True)
Power = Numeric(10, 3, asdecimal=True)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every engine."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
