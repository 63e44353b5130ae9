"""Row parsing shared by the server and order imports: columns, ASCII numbers and ISO dates,
JSON lines, chunking, and the per-row error collector (see :mod:`suanli.services.fleet.imports`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from typing import Any

from suanli.core.errors import SuanliError, ValidationError
from suanli.core.fleet import ServerState
from suanli.core.rowfile import (
    ErrorLog,
    RowError,
    ascii_int,
    byte_lines,
    read_jsonl,
    text_lines,
)

#: A whole file as text (API bodies) or a binary stream of lines (an open file, CLI).
Source = str | Iterable[bytes]
CHUNK = 5000
MAX_INT = 2**31 - 1

SERVER_COLUMNS = (
    "serial",
    "sku",
    "purchase_price",
    "currency",
    "supplier",
    "network_group",
    "state",
    "cabinet",
)
SERVER_REQUIRED = ("serial", "sku")
ORDER_COLUMNS = (
    "number",
    "supplier",
    "ordered_on",
    "sku",
    "quantity",
    "unit_price",
    "promised_on",
    "currency",
    "note",
)
ORDER_REQUIRED = (
    "number",
    "supplier",
    "ordered_on",
    "sku",
    "quantity",
    "unit_price",
    "promised_on",
)
IMPORT_STATES = (
    ServerState.ORDERED,
    ServerState.DELIVERED,
    ServerState.BURN_IN,
    ServerState.AVAILABLE,
)
RACKED = (ServerState.BURN_IN, ServerState.AVAILABLE)


@dataclass(frozen=True, slots=True)
class ImportResult:
    kind: str
    rows: int
    created: list[str]


def lines_of(source: Source) -> Iterator[str]:
    return text_lines(source) if isinstance(source, str) else byte_lines(source)


def field_of(exc: SuanliError, default: str) -> str:
    """The column a coded error points at (its first field, without any ``lines[i].`` prefix)."""
    if not exc.fields:
        return default
    return next(iter(exc.fields)).split(".")[-1]


def check(errors: list[RowError], line: int, column: str, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except SuanliError as exc:
        errors.append(RowError(line, field_of(exc, column), exc.message))
        return None


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def parse_date(value: str, field: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            "input.invalid_date",
            f"{field} must be YYYY-MM-DD, got {value!r}",
            {field: "YYYY-MM-DD"},
        ) from None


def parse_int(value: str, field: str) -> int:
    number = ascii_int(value)
    if number is None:
        raise ValidationError(
            "input.invalid_integer",
            f"{field} must be an integer in ASCII digits, got {value!r}",
            {field: "integer"},
        )
    if abs(number) > MAX_INT:
        raise ValidationError(
            "input.out_of_range", f"{field} must be at most {MAX_INT}", {field: f"<= {MAX_INT}"}
        )
    return number


def jsonl_rows(
    lines: Iterable[str], columns: tuple[str, ...], required: tuple[str, ...], log: ErrorLog
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a JSON-lines file as ``(line, {column: stripped text})``, like :func:`read_csv`.

    Values are strings, integers or null; a float is refused (money is a decimal string).
    """
    for line, obj in read_jsonl(lines, log):
        row: dict[str, str] = dict.fromkeys(columns, "")
        errors = [RowError(line, k, "unknown column") for k in obj if k not in columns]
        for key in columns:
            value = obj.get(key)
            if isinstance(value, str):
                row[key] = value.strip()
            elif isinstance(value, int) and not isinstance(value, bool):
                row[key] = str(value)
            elif value is not None:
                errors.append(RowError(line, key, "a string or an integer is expected"))
            if key in required and not row[key] and value is None:
                errors.append(RowError(line, key, "required"))
        if errors:
            log.extend(errors)
        else:
            yield line, row


def chunks(
    rows: Iterator[tuple[int, dict[str, str]]],
) -> Iterator[list[tuple[int, dict[str, str]]]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk
