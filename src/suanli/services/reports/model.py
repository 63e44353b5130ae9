"""The operating report as values: sections of figures, tables, flags and risk sentences.

Every number on the page is a :class:`Figure` or a table cell, already formatted as text
(amounts to the cent, P to one decimal, ratios to one decimal of a percent), so the archive,
the HTML and the PDF all show the same characters. :meth:`OperatingReport.figures` flattens the
report to ``"section.key" -> text``; that mapping is what is archived and compared for a
restatement; a section marked ``archived=False`` (a projection such as the digital twin's) is
left out of it. Flags and sentences are a message key plus parameters; :mod:`.i18n` words them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value: Decimal | int) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def plain(value: Decimal) -> str:
    """A decimal without trailing zeros or exponent: ``1000.000`` → ``1000``, ``20.0`` → ``20``."""
    return format(value.normalize(), "f")


def p1(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def pct(numerator: Decimal | int, denominator: Decimal | int) -> str:
    """A share as a percentage to one decimal; ``n/a`` when the denominator is zero."""
    if not denominator:
        return "n/a"
    share = Decimal(numerator) * 100 / Decimal(denominator)
    return str(share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    value: str
    unit: str = ""  # CNY | units | GPUs | P | % | hours | days | count | ""


@dataclass(frozen=True, slots=True)
class Table:
    key: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # first cell names the row (unique within the table)


@dataclass(frozen=True, slots=True)
class Message:
    """A flag or a risk sentence: ``key`` picks the wording, ``params`` fill it."""

    key: str
    params: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    figures: tuple[Figure, ...] = ()
    tables: tuple[Table, ...] = ()
    flags: tuple[Message, ...] = ()
    sentences: tuple[Message, ...] = ()
    notes: tuple[Message, ...] = ()
    #: False for a projection (the digital twin): shown, but neither archived nor in the digest
    archived: bool = True


@dataclass(frozen=True, slots=True)
class OperatingReport:
    period: str
    start: str
    end: str  # last day, inclusive
    currency: str
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)

    def flags(self) -> list[tuple[str, Message]]:
        return [(s.key, f) for s in self.sections for f in s.flags]

    def figures(self) -> dict[str, str]:
        """The archived figures: every section but the projections."""
        return _flatten(s for s in self.sections if s.archived)

    def projections(self) -> dict[str, str]:
        """The figures of the sections that are not archived (the digital twin's)."""
        return _flatten(s for s in self.sections if not s.archived)


def _flatten(sections: Iterable[Section]) -> dict[str, str]:
    out: dict[str, str] = {}
    for s in sections:
        for f in s.figures:
            out[f"{s.key}.{f.key}"] = f.value
        for t in s.tables:
            for row in t.rows:
                for col, cell in zip(t.columns[1:], row[1:], strict=True):
                    out[f"{s.key}.{t.key}.{row[0]}.{col}"] = cell
        for i, m in enumerate((*s.flags, *s.sentences)):
            out[f"{s.key}.message.{i}.{m.key}"] = ";".join(
                f"{k}={v}" for k, v in sorted(m.params.items())
            )
    return out
