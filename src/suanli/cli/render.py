"""Rendering helpers shared by CLI command groups: Rich tables, ``--json`` output and the
"wrote PATH" line every command prints for each file it writes (on stderr, so stdout stays
clean for pipes)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from suanli.core.i18n import _
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
    err_console.print(
        _("wrote %(path)s") % {"path": path}, highlight=False, markup=False, soft_wrap=True
    )


@dataclass(frozen=True)
class Col:
    """A table column: ``key`` in the row, the header (with its unit, "net (CNY)"), fixed
    decimals (else the most any cell of the column has, at most 4, so 80.050 stands next to
    89.965), money (2 decimals, thousands separators), ``as_is`` (cells formatted by the caller,
    one unit per row) and ``drop`` — columns with a higher
    number are left out first when the table would cut a number at the console's width."""

    key: str
    header: str | None = None
    unit: str | None = None
    decimals: int | None = None
    money: bool = False
    drop: int = 0
    as_is: bool = False  # numbers already formatted row by row (a metric per row): align only

    @property
    def title(self) -> str:
        """The header in the current language (suanli.cli.glossary), with its unit."""
        name = _(self.header or self.key)
        return f"{name} ({self.unit})" if self.unit else name


def money(value: Any) -> str:
    """An amount with 2 decimals and thousands separators: ``790,531.68``."""
    return _format(value, 2, True)


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
    return text.lower() not in ("nan", "inf", "-inf", "infinity", "-infinity")


def _decimals(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return 0
    text = str(value).strip().rstrip("%").replace(",", "")
    if isinstance(value, float) or "e" in text.lower():
        exact = format(Decimal(repr(float(text))).normalize(), "f")
        return min(4, len(exact.partition(".")[2]))
    return len(text.partition(".")[2])


def _format(value: Any, decimals: int, separators: bool) -> str:
    text = str(value).strip()
    percent = text.endswith("%")
    number = (
        Decimal(text.rstrip("%").replace(",", ""))
        if not isinstance(value, float)
        else Decimal(repr(value))
    )
    quantum = Decimal(1).scaleb(-decimals)
    number = number.quantize(quantum, rounding=ROUND_HALF_EVEN)
    out = f"{number:,.{decimals}f}" if separators else f"{number:.{decimals}f}"
    return out + ("%" if percent else "")


def _cells(rows: list[Mapping[str, Any]], col: Col) -> tuple[list[str], bool]:
    """The column's cells as text, and whether it is numeric (every filled cell a number)."""
    values = [row.get(col.key) for row in rows]
    filled = [v for v in values if v not in (None, "", "—")]
    numeric = bool(filled) and all(_is_number(v) for v in filled)
    if not numeric or col.as_is:
        return ["" if v is None else str(v) for v in values], numeric
    decimals = 2 if col.money and col.decimals is None else col.decimals
    if decimals is None:
        decimals = max(_decimals(v) for v in filled)
    separators = col.money or any(
        abs(float(str(v).rstrip("%").replace(",", ""))) >= 10_000 for v in filled
    )
    return [
        "" if v in (None, "") else "—" if v == "—" else _format(v, decimals, separators)
        for v in values
    ], True


def _build(
    title: str | None, cols: list[Col], cells: dict[str, tuple[list[str], bool]], n: int
) -> Table:
    table = Table(title=_(title) if title else title)
    for i, col in enumerate(cols):
        texts, numeric = cells[col.key]
        widest = max([len(t) for t in texts] + [len(col.title)])
        if i == 0 and not numeric:  # the row's name (a serial, an invoice number) stays whole
            table.add_column(col.title, no_wrap=True, min_width=min(widest, 24))
        elif numeric or col.as_is:
            table.add_column(col.title, justify="right", no_wrap=True, min_width=widest)
        else:  # text wraps, but never below 10 characters (or its widest cell)
            table.add_column(col.title, overflow="fold", min_width=min(widest, 10))
    for i in range(n):
        table.add_row(*(cells[c.key][0][i] for c in cols))
    return table


def _fits(table: Table, cols: list[Col], cells: dict[str, tuple[list[str], bool]]) -> bool:
    """True when the table is no wider than the console and every number (and its header)
    shows whole."""
    unclamped = console.options.update_width(10_000)  # Measurement.get clamps to the width
    if Measurement.get(console, unclamped, table).minimum > console.width:
        return False
    with console.capture() as capture:
        console.print(table)
    text = capture.get()
    top = next((ln.rstrip() for ln in text.splitlines() if ln.lstrip().startswith("┏")), "┓")
    if not top.endswith("┓"):  # the console cropped the right edge
        return False
    numeric = [c for c in cols if cells[c.key][1]]
    return all(c.title in text for c in numeric) and all(
        t in text for c in numeric for t in cells[c.key][0] if t
    )


def print_table(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str | Col], title: str | None = None
) -> None:
    """A Rich table: numbers right-aligned with the same decimals per column, never cut — when
    the console is too narrow, columns with the highest ``Col.drop`` are left out first, then
    text columns from the right (and named under the table); text wraps."""
    rows = list(rows)
    cols = [c if isinstance(c, Col) else Col(c) for c in columns]
    cells = {c.key: _cells(rows, c) for c in cols}
    dropped: list[str] = []
    table = _build(title, cols, cells, len(rows))
    while not _fits(table, cols, cells):
        candidates = [c for c in cols if c.drop > 0]
        if not candidates:  # then text columns, from the right; never the first (the row's name)
            candidates = [c for c in cols[1:] if not cells[c.key][1]][-1:]
        if not candidates:
            break
        worst = max(candidates, key=lambda c: (c.drop, cols.index(c)))
        cols.remove(worst)
        dropped.append(worst.key)
        table = _build(title, cols, cells, len(rows))
    console.print(table)
    if dropped:
        console.print(
            _("(hidden at %(width)s columns: %(columns)s; see --json)")
            % {"width": console.width, "columns": ", ".join(_(c) for c in dropped)},
            highlight=False,
        )


def progress(*, transient: bool = True, disable: bool = False) -> Progress:
    """The progress display of long commands (on stderr, so stdout stays clean for pipes)."""
    return Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=transient,
        disable=disable,
    )
