"""HTML and PDF of the operating report.

The HTML is a pure function of the report, its archived version and the language: no clock,
no random ids, dictionary order fixed by the report itself. So regenerating a closed period
whose figures did not change (same archived version) gives byte-identical HTML. The page
shows the archived version's generation time and a digest of its figures, not of the ledger,
so unrelated later activity does not change the page of a closed period.

The PDF is WeasyPrint over that HTML (Debian's Pango lays out the text; the Chinese font comes
from ``scripts/report-deps.sh``). WeasyPrint is imported inside :func:`to_pdf`: it is heavy and
only the PDF needs it.
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from suanli.services.reports.archive import canonical_json
from suanli.services.reports.i18n import check_lang, label, sentence, title
from suanli.services.reports.ledger import ArchivedReport
from suanli.services.reports.model import Message, OperatingReport

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True,
                       undefined=StrictUndefined, keep_trailing_newline=True)  # fmt: skip


_MONEY = re.compile(r"^-?\d+\.\d\d$")
_NUMERIC = re.compile(r"^(-?\d+(\.\d+)?|n/a|-)$")


def numeric(value: str) -> bool:
    """Cells set right-aligned and unbroken: numbers, ``n/a`` and ``-``; text may wrap."""
    return bool(_NUMERIC.match(value))


def grouped(value: str) -> str:
    """``1234567.80`` → ``1,234,567.80`` for amounts; other text unchanged."""
    if not _MONEY.match(value):
        return value
    return f"{Decimal(value):,.2f}"


def figures_digest(report: OperatingReport) -> str:
    return hashlib.sha256(canonical_json(report.figures()).encode("utf-8")).hexdigest()


def to_html(report: OperatingReport, archived: ArchivedReport, lang: str) -> str:
    lang = check_lang(lang)

    def table_title(key: str) -> str:
        base, _, rest = key.partition(".")
        return f"{label(lang, base)} · {rest}" if rest else label(lang, base)

    def say(m: Message) -> str:
        return sentence(lang, m)

    return _env().get_template("operating.html").render(
        report=report, archived=archived, lang=lang, digest=figures_digest(report),
        flags=[sentence(lang, f) for _, f in report.flags()],
        t=lambda k: title(lang, k), l=lambda k: label(lang, k), say=say, table_title=table_title,
        g=grouped, numeric=numeric,
    )  # fmt: skip


def to_pdf(html: str) -> bytes:
    """Render ``html`` to PDF bytes with WeasyPrint (imported here: heavy, PDF-only)."""
    from weasyprint import HTML  # heavy import kept out of CLI start-up

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf
