"""Simplified Chinese and English for the dashboard and the CLI: gettext catalogs, the current
language, and the number formats that differ by language.

English is the source language: every message is written in English in the code and the
templates (``_("Overview")``) and ``src/suanli/locale/zh/LC_MESSAGES/messages.po`` translates it.
The ``.po`` files are the only catalogs: they are kept in git, extracted and updated with Babel
(``make messages``, docs/dashboard.md) and read here at first use with the standard library, so a
fresh clone needs no compile step and the runtime needs no Babel.

Invariants:

- A message without a translation shows in English, never as a key; ``tests/unit/test_i18n.py``
  fails when a message in the code has no Chinese translation.
- Error *codes* are never translated (``lease.capacity_unavailable`` is the same in both
  languages); only the sentences around them are.
- The current language is a :class:`~contextvars.ContextVar`: one request (or one CLI run) sets
  it, so concurrent requests in other languages do not see it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal
from functools import cache

LANGS = ("en", "zh")
DEFAULT_LANG = "en"
#: The name each language has in its own language, for the switch.
NATIVE_NAMES = {"en": "English", "zh": "中文"}

_current: ContextVar[str] = ContextVar("suanli_lang", default=DEFAULT_LANG)


def normalise(tag: str | None) -> str | None:
    """The supported language a tag names (``zh-CN``, ``zh_Hans``, ``ZH`` → ``zh``), or None."""
    if not tag:
        return None
    base = tag.strip().replace("_", "-").split("-")[0].lower()
    return base if base in LANGS else None


def negotiate(accept_language: str | None) -> str:
    """The best supported language of an ``Accept-Language`` header (RFC 9110 quality values);
    English when none is supported."""
    best, best_q = DEFAULT_LANG, 0.0
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, params = item.partition(";")
        lang = normalise(tag)
        if lang is None:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        # Earlier entries win ties, as browsers list preferences in order.
        if q > best_q or (q == best_q and position == 0):
            best, best_q = lang, q
    return best


def parse_po(text: str) -> dict[str, str]:
    """The translated messages of a ``.po`` file: ``{msgid: msgstr}``, with plural forms stored
    under ``(msgid, n)`` keys as :mod:`gettext` expects; fuzzy and empty entries are left out
    (they show in English)."""
    import ast  # only when a catalog is read: start-up stays fast (docs/cli.md)

    catalog: dict[str, str] = {}
    entry: dict[str, str] = {}
    field = ""
    fuzzy = False

    def translated() -> bool:
        return any(name.startswith("msgstr") for name in entry)

    def flush() -> None:
        nonlocal fuzzy
        msgid = entry.get("msgid")
        if msgid and not fuzzy:
            ctx = entry.get("msgctxt")
            key = f"{ctx}\x04{msgid}" if ctx is not None else msgid
            if "msgid_plural" in entry:
                for name, value in entry.items():
                    if name.startswith("msgstr[") and value:
                        catalog[(key, int(name[7:-1]))] = value  # type: ignore[index]
            elif entry.get("msgstr"):
                catalog[key] = entry["msgstr"]
        entry.clear()
        fuzzy = False

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):  # a comment opens the next entry
            if translated():
                flush()
            fuzzy = fuzzy or (line.startswith("#,") and "fuzzy" in line)
            continue
        if line.startswith('"'):
            entry[field] += ast.literal_eval(line)
            continue
        name, _, value = line.partition(" ")
        if name in ("msgctxt", "msgid") and translated():
            flush()
        field = name
        entry[field] = ast.literal_eval(value.strip())
    flush()
    return catalog


class Translations:
    """The messages of one language, looked up as :mod:`gettext` does (a message without a
    translation is returned as it is; both supported languages have one plural form, so
    ``ngettext`` picks by English's rule when a message is untranslated). Not
    :class:`gettext.GNUTranslations`: importing :mod:`gettext` pulls in :mod:`locale`, which
    the CLI's start-up budget does not need."""

    def __init__(self, messages: dict[str, str]) -> None:
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self.messages.get((singular, 0))  # type: ignore[call-overload]
        if found is not None:
            return str(found)
        return singular if n == 1 else plural


@cache
def translations(lang: str) -> Translations:
    """The catalog of ``lang`` (read once); English is the identity."""
    if lang == DEFAULT_LANG:
        return Translations({})
    from importlib import resources  # 0.1+ s of imports: only when a catalog is read

    po = resources.files("suanli").joinpath(f"locale/{lang}/LC_MESSAGES/messages.po")
    return Translations(parse_po(po.read_text(encoding="utf-8")))


def current() -> str:
    return _current.get()


def set_language(lang: str) -> None:
    """Make ``lang`` the language of this request or CLI run (an unsupported one is English)."""
    _current.set(normalise(lang) or DEFAULT_LANG)


@contextmanager
def language(lang: str) -> Iterator[None]:
    """Run a block in ``lang`` and restore the previous language after it."""
    token = _current.set(normalise(lang) or DEFAULT_LANG)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


_ = gettext


def N_(message: str) -> str:
    """Mark ``message`` for extraction only; it is translated where it is shown (a chart
    title, a table label) with :func:`gettext`."""
    return message


_WAN = Decimal(10_000)
_YI = Decimal(100_000_000)


def large_money(value: Decimal | float | int | None) -> str:
    """A large CNY amount as operators read it: ``12.3 M`` in English; in Chinese ``3,456.8 万元``
    from 10,000 and ``1.23 亿元`` from 100 million (below 10,000: ``8,500 元``). Rounded half up."""
    if value is None:
        return "—"
    amount = Decimal(str(value))
    if _current.get() != "zh":
        millions = (amount / Decimal(1_000_000)).quantize(Decimal("0.1"), ROUND_HALF_UP)
        return f"{millions:,.1f} M"
    if abs(amount) >= _YI:
        return f"{(amount / _YI).quantize(Decimal('0.01'), ROUND_HALF_UP):,.2f} 亿元"
    if abs(amount) >= _WAN:
        return f"{(amount / _WAN).quantize(Decimal('0.1'), ROUND_HALF_UP):,.1f} 万元"
    return f"{amount.quantize(Decimal(1), ROUND_HALF_UP):,.0f} 元"
