"""Declarative base, column types and the constraint naming convention of every ORM model.

- :class:`UTCDateTime` stores timezone-aware datetimes and always returns aware UTC values
  (SQLite keeps no zone, so values are normalised to UTC on the way in and tagged on the way out).
  Naive datetimes are refused: the domain never produces them.
- :data:`Money` is :class:`ExactMoney`: ``NUMERIC(18, 2)`` on PostgreSQL; on SQLite, whose
  NUMERIC affinity keeps 15 significant digits as a float (99999999999999.99 read back as
  ...98), an INTEGER count of cents. Exact on both engines for |amount| <= ``core.money.MONEY_MAX``
  (9,999,999,999,999,999.99 fits neither: the documented range is 16 integer digits);
  values are quantised to the cent half up on the way in, as PostgreSQL does;
  :data:`Rate` is ``Numeric(20, 8)`` (unit rates such as a GPU-hour price);
  :data:`Power` is ``Numeric(10, 3)`` (kW).
- The naming convention gives every constraint a stable name, which Alembic's batch mode on
  SQLite needs to alter or drop it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, MetaData, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from suanli.core.money import CENT

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ExactMoney(TypeDecorator[Decimal]):
    """An amount in the minor unit: NUMERIC(18, 2), or integer cents on SQLite (see above)."""

    impl = Numeric(18, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        cents = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP).scaleb(2)
        return int(cents)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name != "sqlite":
            return Decimal(value)
        if isinstance(value, float):  # an aggregate SQLite computed in floating point
            raise TypeError("money column read back as a float: use SUM, not TOTAL or AVG")
        return Decimal(int(value)).scaleb(-2).quantize(CENT)


Money = ExactMoney()
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
