"""The shared row-file readers: every shape problem is reported at its line and column."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from suanli.core.errors import ValidationError
from suanli.core.money import to_decimal
from suanli.core.rowfile import (
    ErrorLog,
    FileRejected,
    RowError,
    ascii_int,
    byte_lines,
    csv_cell,
    read_csv,
    read_jsonl,
    text_lines,
    write_csv,
)

COLS = ("a", "b")


def rows(data: bytes, log: ErrorLog) -> list[tuple[int, dict[str, str]]]:
    return list(read_csv(byte_lines(io.BytesIO(data)), COLS, ("a",), log))


def test_bom_is_skipped_and_line_endings_all_work() -> None:
    log = ErrorLog()
    got = rows(b'\xef\xbb\xbfa,b\r\n1,2\n3,"x\ny"\n', log)
    assert got == [(2, {"a": "1", "b": "2"}), (4, {"a": "3", "b": "x\ny"})] and not log
    assert list(read_csv(text_lines("\ufeffa\n1\n"), COLS, ("a",), log)) == [(2, {"a": "1"})]
    assert rows(b"a,b\r1,2\r3,4\r", log) == [(2, {"a": "1", "b": "2"}), (3, {"a": "3", "b": "4"})]


def test_bad_bytes_nul_and_field_count_reported_per_row() -> None:
    log = ErrorLog()
    got = rows(b"a,b\nok,1\ncaf\xe9,2\nx,\x00\n1,2,3\nlast,2\n", log)
    assert [line for line, _ in got] == [2, 6]
    assert log.reported() == [
        RowError(3, "a", "not UTF-8 (byte 0xe9)"),
        RowError(4, "b", "contains a NUL character"),
        RowError(5, "*", "3 fields, the header has 2"),
    ]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"\xff\xfea\x00,\x00b\x00\n\x00",
            RowError(1, "*", "the file is UTF-16; save it as UTF-8"),
        ),
        (b"a,b,a\n1,2,3\n", RowError(1, "a", "duplicate column")),
        (b"a,,b\n1,2,3\n", RowError(1, "#2", "empty column name")),
        (b"b\n1\n", RowError(1, "a", "missing column")),
        (b"a,c\n1,2\n", RowError(1, "c", "unknown column")),
        (b"", RowError(1, "*", "the file is empty")),
        (b"a,b\n", RowError(1, "*", "no data rows")),
    ],
)
def test_file_level_problems(data: bytes, expected: RowError) -> None:
    with pytest.raises(FileRejected) as info:
        rows(data, ErrorLog())
    assert expected in info.value.errors


def test_jsonl_lines_must_be_objects_without_nul_or_lone_surrogates() -> None:
    log = ErrorLog()
    text = '{"a": 1}\n[1, 2]\n\n{"a": "x\\u0000"}\n{"a": "\\ud800"}\n{bad\n"s"\n{"b": 2}\n'
    got = list(read_jsonl(text_lines(text), log))
    assert got == [(1, {"a": 1}), (8, {"b": 2})]
    assert [(e.line, e.column) for e in log.reported()] == [
        (2, "*"), (4, "a"), (5, "a"), (6, "char 2"), (7, "*"),
    ]  # fmt: skip
    assert "object" in log.reported()[0].reason and "surrogate" in log.reported()[2].reason


def test_error_log_keeps_the_first_and_the_last() -> None:
    log = ErrorLog(cap=3)
    log.extend(RowError(i, "a", "bad") for i in range(10))
    assert [e.line for e in log.reported()] == [0, 1, 2, 9] and log.total == 10


@pytest.mark.parametrize("text", ["١٠", "²", "1_0", "１０", " ", "1.5", "0x10", "9" * 41])
def test_only_ascii_integers(text: str) -> None:
    assert ascii_int(text) is None


@pytest.mark.parametrize("text", ["١٠", "1_0", "１.５", "²"])
def test_money_text_is_ascii_only(text: str) -> None:
    with pytest.raises(ValidationError, match="ASCII"):
        to_decimal(text)


def test_money_words_are_refused_as_not_finite() -> None:
    with pytest.raises(ValidationError, match="finite"):
        to_decimal("-Infinity")
    assert to_decimal(" -1.50e2 ") == -150


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("-120.50", "-120.50"),
        ("+7", "+7"),
        ("acme", "acme"),
        (None, ""),
    ],
)
def test_csv_cells_are_neutralised(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_numbers_are_never_quoted_whatever_their_spelling() -> None:
    assert [csv_cell(v) for v in (-1e-05, -3, Decimal("-1E+3"), float("-inf"))] == [
        "-1e-05",
        "-3",
        "-1E+3",
        "'-inf",
    ]


def test_write_csv_neutralises_header_and_cells() -> None:
    text = write_csv([["=1+1", "-3"]], ["customer", "@amount"])
    assert text == "customer,'@amount\r\n'=1+1,-3\r\n"
