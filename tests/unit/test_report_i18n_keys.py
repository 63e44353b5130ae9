"""The report's two languages say the same things: every sentence and label key exists in zh and
en, and each sentence uses the same parameters in both (a missing one would raise at render)."""

from __future__ import annotations

import string

from suanli.services.reports.i18n import LABELS, MESSAGES


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_both_languages_have_every_key_and_parameter() -> None:
    assert set(MESSAGES["zh"]) == set(MESSAGES["en"])
    assert set(LABELS["zh"]) == set(LABELS["en"])
    differ = [k for k in MESSAGES["en"] if _fields(MESSAGES["en"][k]) != _fields(MESSAGES["zh"][k])]
    assert differ == []
