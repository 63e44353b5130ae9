"""Streaming readers for the row files operators import (CSV with a header row, JSON lines).

Owns the *shape* checks every import shares, so fleet, purchase-order and usage imports report
bad input alike, as ``{line, column, reason}``:

- The file is UTF-8. A UTF-8 BOM is skipped; a UTF-16/32 BOM rejects the file at line 1; any
  other byte that is not UTF-8 is reported at its line and column (read with
  ``surrogateescape`` so the rest of the row still parses).
- No field may hold NUL or a lone surrogate (neither can be stored in PostgreSQL ``text``).
- CSV headers: names are stripped; a duplicate, empty, unknown or missing column rejects the
  file at line 1 before any row is read.
- A JSONL line must be one JSON object.
- Numbers (:func:`ascii_int`, :func:`is_ascii_decimal`) are plain ASCII digits: ``١``,
  ``²`` and ``1_0`` (all accepted by Python's ``int``) are refused.

Writing: :func:`write_csv` is the one CSV writer; :func:`csv_cell` neutralises cells a
spreadsheet would run as formulas (leading ``=``, ``+``, ``-``, ``@``).

Vocabulary: *line* is the physical line number (header = 1; a quoted field spanning lines is
numbered by its last line, like :mod:`csv`). The readers are generators over an iterable of
lines, so a file of any length is read in bounded memory; :class:`ErrorLog` keeps the first
:data:`MAX_REPORTED` errors and the last one, and counts them all.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from suanli.core.errors import ValidationError

MAX_REPORTED = 1000
#: csv's default field limit (128 KiB) is far above any column we import; keep it explicit.
MAX_FIELD = 131072
_FOREIGN_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")
_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", re.ASCII)


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason: str


@dataclass(slots=True)
class ErrorLog:
    """Errors of one file: the first ``cap`` in order and the last one; ``total`` counts all."""

    cap: int = MAX_REPORTED
    first: list[RowError] = field(default_factory=list)
    last: RowError | None = None
    total: int = 0

    def add(self, error: RowError) -> None:
        self.total += 1
        if len(self.first) < self.cap:
            self.first.append(error)
        else:
            self.last = error

    def extend(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.add(error)

    def __bool__(self) -> bool:
        return self.total > 0

    def reported(self) -> list[RowError]:
        return self.first + ([self.last] if self.last is not None else [])


class FileRejected(Exception):
    """The file cannot be read at all (encoding, header); ``errors`` says where."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(f"line {e.line} {e.column}: {e.reason}" for e in errors))
        self.errors = errors


class ImportRejected(ValidationError):
    """The file has bad rows; ``rows`` lists them (capped, see the module doc). Nothing was
    written."""

    def __init__(self, kind: str, rows: list[RowError], total: int | None = None) -> None:
        total = len(rows) if total is None else total
        listed = "" if total == len(rows) else f" ({len(rows)} listed: the first and the last)"
        super().__init__(
            "import.invalid_rows",
            f"{total} problem(s) in the {kind} file{listed}; nothing was imported",
            {
                "rows": [{"line": r.line, "column": r.column, "reason": r.reason} for r in rows],
                "total": total,
            },
        )
        self.rows = rows
        self.total = total

    @classmethod
    def from_log(cls, kind: str, log: ErrorLog) -> ImportRejected:
        return cls(kind, log.reported(), log.total)


# --- lines ------------------------------------------------------------------------------------


def text_lines(text: str) -> Iterator[str]:
    """Lines of an in-memory text, line endings kept (as :mod:`csv` wants them)."""
    return iter(io.StringIO(text, newline=""))


def byte_lines(stream: Iterable[bytes]) -> Iterator[str]:
    """Decode a binary stream line by line; bytes that are not UTF-8 become lone surrogates
    (``surrogateescape``), which :func:`field_problem` reports at their column."""
    first = True
    for raw in stream:
        if first:
            first = False
            for bom, name in _FOREIGN_BOMS:
                if raw.startswith(bom):
                    raise FileRejected([RowError(1, "*", f"the file is {name}; save it as UTF-8")])
        if b"\r" in raw[:-2]:  # bare-CR line ends: binary files split on LF only
            for part in raw.splitlines(keepends=True):
                yield part.decode("utf-8", "surrogateescape")
        else:
            yield raw.decode("utf-8", "surrogateescape")


def _without_bom(lines: Iterable[str]) -> Iterator[str]:
    it = iter(lines)
    for head in it:
        yield head.removeprefix("\ufeff")
        break
    yield from it


def field_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or None."""
    found = _BAD_CHAR.search(value)
    if found is None:
        return None
    char = found.group()
    if char == "\x00":
        return "contains a NUL character"
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"not UTF-8 (byte 0x{code - 0xDC00:02x})"
    return f"contains a lone surrogate U+{code:04X}"


# --- CSV --------------------------------------------------------------------------------------


def check_header(
    names: list[str], columns: tuple[str, ...], required: tuple[str, ...]
) -> list[RowError]:
    errors: list[RowError] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        problem = field_problem(name)
        if problem:
            errors.append(RowError(1, f"#{position}", f"column name {problem}"))
        elif not name:
            errors.append(RowError(1, f"#{position}", "empty column name"))
        elif name in seen:
            errors.append(RowError(1, name, "duplicate column"))
        elif name not in columns:
            errors.append(RowError(1, name, "unknown column"))
        seen.add(name)
    errors += [RowError(1, c, "missing column") for c in required if c not in seen]
    return errors


def read_csv(
    lines: Iterable[str],
    columns: tuple[str, ...],
    required: tuple[str, ...],
    errors: ErrorLog,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV file as ``(line, {column: stripped value})``.

    A row with a bad field (encoding, NUL, too many fields) goes to ``errors`` and is not
    yielded. A broken header, an empty file or CSV that cannot be tokenised further (an
    unterminated quote, a field over :data:`MAX_FIELD`) raises :class:`FileRejected`.
    """
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(_without_bom(lines))
    try:
        header = next(reader, None)
        if header is None:
            raise FileRejected([RowError(1, "*", "the file is empty")])
        names = [h.strip() for h in header]
        header_errors = check_header(names, columns, required)
        if header_errors:
            raise FileRejected(header_errors)
        rows = 0
        for values in reader:
            line = reader.line_num
            if not values:  # a blank line
                continue
            rows += 1
            row = _csv_row(line, names, values, errors)
            if row is not None:
                yield line, row
    except csv.Error as exc:
        where = max(reader.line_num, 1)  # the line being read, not the last good one
        raise FileRejected([RowError(where, "*", f"malformed CSV: {exc}")]) from None
    if rows == 0:
        raise FileRejected([RowError(1, "*", "no data rows")])


def _csv_row(
    line: int, names: list[str], values: list[str], errors: ErrorLog
) -> dict[str, str] | None:
    if len(values) > len(names):
        errors.add(RowError(line, "*", f"{len(values)} fields, the header has {len(names)}"))
        return None
    ok = True
    if _BAD_CHAR.search("".join(values)):  # one scan of the row; fields only when it is bad
        for name, value in zip(names, values, strict=False):
            problem = field_problem(value)
            if problem:
                errors.add(RowError(line, name, problem))
                ok = False
    row = {name: value.strip() for name, value in zip(names, values, strict=False)}
    for name in names[len(values) :]:
        row[name] = ""
    return row if ok else None


# --- JSON lines -------------------------------------------------------------------------------


def read_jsonl(lines: Iterable[str], errors: ErrorLog) -> Iterator[tuple[int, dict[str, Any]]]:
    """Objects of a JSON-lines file as ``(line, object)``; blank lines are skipped.

    A line that is not JSON, not an object, or holds a string with NUL or a lone surrogate (JSON
    can spell both as escapes) goes to ``errors``.
    """
    for line, text in enumerate(_without_bom(lines), start=1):
        if not text.strip():
            continue
        problem = field_problem(text)
        if problem:
            errors.add(RowError(line, "*", problem))
            continue
        try:
            value = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            col = f"char {exc.colno}" if isinstance(exc, json.JSONDecodeError) else "*"
            errors.add(RowError(line, col, f"not JSON: {reason}"))
            continue
        if not isinstance(value, dict):
            errors.add(
                RowError(line, "*", f"a JSON object is expected, got {type(value).__name__}")
            )
            continue
        bad = _bad_member(value)
        if bad is not None:
            errors.add(RowError(line, *bad))
            continue
        yield line, value


def _bad_member(obj: dict[str, Any]) -> tuple[str, str] | None:
    for key, value in obj.items():
        problem = field_problem(key)
        if problem:
            return "*", f"a key {problem}"
        if isinstance(value, str):
            problem = field_problem(value)
            if problem:
                return key, problem
    return None


# --- numbers ----------------------------------------------------------------------------------


def ascii_int(text: str) -> int | None:
    """``text`` as an int if it is plain ASCII digits (optional sign), else None."""
    stripped = text.strip()
    if len(stripped) > 40 or not _INT.fullmatch(stripped):
        return None
    return int(stripped)


def is_ascii_decimal(text: str) -> bool:
    """Whether ``text`` is a decimal in plain ASCII (``12``, ``-1.5``, ``2e3``; not ``1_0``)."""
    return _DECIMAL.fullmatch(text.strip()) is not None


# --- writing ----------------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?", re.ASCII)


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell a spreadsheet will not run: text starting with ``=``, ``+``,
    ``-``, ``@``, a tab or CR gets a leading ``'`` (OWASP "CSV injection"). Plain numbers
    (``-120.50``) are left alone: they cannot be formulas and credit notes are negative; so are
    finite numbers of any spelling (``-1e-05``), which a spreadsheet reads as numbers."""
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def write_csv(rows: Iterable[Iterable[object]], header: Iterable[str]) -> str:
    """CSV text (header first, CRLF line ends) with every cell passed through :func:`csv_cell`.

    Every CSV export goes through here; there is no other CSV writer in ``suanli``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return out.getvalue()
