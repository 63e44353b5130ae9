"""Chinese and English (issue 16): the catalog is complete and up to date with the code, the
stdlib ``.po`` reader agrees with Babel's, placeholders survive translation, the language is
negotiated as documented, and large amounts read as 万元 / 亿元 in Chinese."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from suanli.core import i18n
from suanli.web.language import choose

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "src/suanli/locale/zh/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)[-.\d]*[dsf]|%%")


def _babel_catalog() -> dict[str, str]:
    with PO.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}  # type: ignore[misc]


def test_stdlib_reader_agrees_with_babel_on_the_real_catalog() -> None:
    ours = i18n.parse_po(PO.read_text(encoding="utf-8"))
    assert ours == {k: v for k, v in _babel_catalog().items() if v}
    assert len(ours) > 500


def test_every_message_has_a_chinese_translation_with_the_same_placeholders() -> None:
    catalog = _babel_catalog()
    missing = [k for k, v in catalog.items() if not v]
    assert missing == [], f"translate these in {PO.name} (make messages)"
    for msgid, msgstr in catalog.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid
        assert msgstr != msgid or not re.search(r"[a-z]{3}", msgid), f"left in English: {msgid}"


@pytest.mark.skipif(shutil.which("pybabel", path=str(Path(sys.executable).parent)) is None,
                    reason="Babel (dev extra) not installed")  # fmt: skip
def test_catalog_holds_every_message_of_the_code(tmp_path: Path) -> None:
    """Fails when a _() / N_() / {% trans %} message was added without `make messages`."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(Path(sys.executable).parent / "pybabel"), "-q", "extract", "-F", "babel.cfg",
         "-k", "N_", "--no-location", "--omit-header", "-o", str(pot), "."],
        cwd=ROOT, check=True,
    )  # fmt: skip
    with pot.open("rb") as f:
        in_code = {m.id for m in read_po(f) if m.id}
    assert sorted(in_code - set(_babel_catalog())) == []


def test_po_reader_handles_continuations_context_plurals_and_fuzzy() -> None:
    text = (
        'msgid ""\nmsgstr "Content-Type: text/plain; charset=utf-8\\n"\n\n'
        'msgid "a "\n"b"\nmsgstr "甲"\n"乙"\n\n'
        '#, fuzzy\nmsgid "old"\nmsgstr "旧"\n\n'
        'msgctxt "menu"\nmsgid "Open"\nmsgstr "打开"\n\n'
        'msgid "one"\nmsgid_plural "many"\nmsgstr[0] "多个"\n\n'
        'msgid "empty"\nmsgstr ""\n\n'
        'msgid "quote \\"x\\""\nmsgstr "引号 \\"x\\""\n'
    )
    assert i18n.parse_po(text) == {
        "a b": "甲乙",
        "menu\x04Open": "打开",
        ("one", 0): "多个",  # type: ignore[dict-item]
        'quote "x"': '引号 "x"',
    }


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("en-US,en;q=0.9,zh-CN;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,zh-Hans;q=0.5,en;q=0.3", "zh"),
        ("fr, de", "en"),
        ("en;q=0.2, zh-TW;q=0.7", "zh"),
        ("zh;q=0, en", "en"),
        ("zh;q=abc, en;q=0.1", "en"),
    ],
)
def test_accept_language_negotiation(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_query_beats_cookie_beats_accept_language() -> None:
    assert choose("lang=en", "lang=zh", "zh-CN") == ("en", True)
    assert choose("", "lang=zh", "en-US") == ("zh", False)
    assert choose("lang=xx", "other=1", "zh-CN") == ("zh", False)
    assert choose("", 'bad"cookie; lang', "en") == ("en", False)


@pytest.mark.parametrize(
    ("value", "en", "zh"),
    [
        (Decimal("123456789.01"), "123.5 M", "1.23 亿元"),
        (Decimal("12345678"), "12.3 M", "1,234.6 万元"),
        (Decimal("-56700"), "-0.1 M", "-5.7 万元"),
        (Decimal("8500.4"), "0.0 M", "8,500 元"),
        (Decimal("99999.95"), "0.1 M", "10.0 万元"),
        (Decimal("1050000000"), "1,050.0 M", "10.50 亿元"),
        (None, "—", "—"),
    ],
)
def test_large_money_in_millions_or_wan_and_yi(value: Decimal | None, en: str, zh: str) -> None:
    with i18n.language("en"):
        assert i18n.large_money(value) == en
    with i18n.language("zh"):
        assert i18n.large_money(value) == zh


def test_language_block_restores_and_unknown_language_is_english() -> None:
    with i18n.language("zh"):
        assert i18n.gettext("Overview") == "总览"
        with i18n.language("xx"):
            assert i18n.current() == "en" and i18n.gettext("Overview") == "Overview"
        assert i18n.current() == "zh"
    assert i18n.gettext("not a message") == "not a message"
