"""Rendering helpers shared by CLI command groups: Rich tables, ``--json`` output and the
"wrote PATH" line every command prints for each file it writes (on stderr, so stdout stays
clean for pipes)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from suanli.core.serialize import to_jsonable

console = Console()
err_console = Console(stderr=True)


def dumps(data: Any) -> str:
    """``--json`` text: the one serialiser the API uses too (:func:`to_jsonable`)."""
    return json.dumps(to_jsonable(data), ensure_ascii=False, indent=2)


def print_json(data: Any) -> None:
    print(dumps(data))


def wrote(path: Path | str) -> None:
    """Tell the user a file was written (one line on stderr)."""
    err_console.print(f"wrote {path}", highlight=False, markup=False, soft_wrap=True)


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | Decimal):
        return True
    text = str(value).strip().rstrip("%").replace(",", "")
    try:
        float(text)
    except ValueError:
        return False
    return True


def print_table(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], title: str | None = None
) -> None:
    """A Rich table; columns whose every filled cell is a number are right-aligned."""
    rows = list(rows)
    table = Table(title=title)
    for col in columns:
        filled = [row.get(col) for row in rows if row.get(col) not in (None, "")]
        numeric = bool(filled) and all(_is_number(v) for v in filled)
        table.add_column(col, justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    console.print(table)
